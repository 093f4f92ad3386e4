import StrataDiagnostics
import StrataDriver
import Testing

/// The rendered output of every format for a few specs, compared with
/// committed goldens: what users and CI systems actually read.
@Suite struct GoldenTests {
    static let inputs = [
        "docs/examples/mistakes.yaml",
        "Tests/StrataTests/Goldens/inputs/labels-and-fixes.yaml",
        "Tests/StrataTests/Goldens/inputs/yaml-error.yaml",
    ]

    @Test(arguments: inputs)
    func everyFormat(_ path: String) throws {
        let report = CheckReport(files: 1, diagnostics: Pipeline.check(try Repo.source(path)))
        let name = (path as NSString).lastPathComponent.replacingOccurrences(of: ".yaml", with: "")
        let formats: [(DiagnosticFormat, String)] = [(.text, "txt"), (.json, "jsonl"), (.sarif, "sarif"), (.github, "github")]
        for (format, ext) in formats {
            expectGolden(format.render(report, color: false), "Tests/StrataTests/Goldens/\(name).\(ext)")
        }
    }

    @Test func textCanBeColoured() throws {
        let report = CheckReport(files: 1, diagnostics: Pipeline.check(try Repo.source(Self.inputs[0])))
        let text = DiagnosticFormat.text.render(report, color: true)
        #expect(text.contains("\u{1B}[1;31merror[E405]"))
        #expect(!DiagnosticFormat.text.render(report, color: false).contains("\u{1B}"))
    }
}

import Foundation
