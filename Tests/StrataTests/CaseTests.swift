import Foundation
import StrataDiagnostics
import StrataDriver
import Testing

/// Annotated invalid specs under Tests/StrataTests/Cases: each file says, in
/// `# expect: CODE LINE:COLUMN` comments, exactly which diagnostics it must
/// produce, no more and no fewer.
@Suite struct CaseTests {
    static let cases = Repo.files(under: "Tests/StrataTests/Cases", extensions: ["yaml", "yml"])

    static func expectations(_ file: SourceFile) -> [String] {
        (1...file.lineCount).compactMap { n in
            let line = file.lineText(n)
            guard let r = line.range(of: "# expect: ") else { return nil }
            return String(line[r.upperBound...]).trimmingCharacters(in: .whitespaces)
        }.sorted()
    }

    @Test(arguments: cases)
    func diagnosticsMatchAnnotations(_ path: String) throws {
        let file = try Repo.source(path)
        let expected = Self.expectations(file)
        #expect(!expected.isEmpty, "\(path) has no `# expect:` line")
        let actual = Pipeline.check(file).diagnostics.map { "\($0.code.id) \($0.primary.span.start)" }.sorted()
        #expect(actual == expected, "\(path)")
    }

    @Test func thereAreEnoughCases() {
        #expect(Self.cases.count >= 50)
    }

    @Test func everyDiagnosticCodeIsExercised() throws {
        var seen: Set<String> = []
        for path in Self.cases {
            for e in Self.expectations(try Repo.source(path)) { seen.insert(String(e.prefix { $0 != " " })) }
        }
        let missing = ReferenceDocs.allCodes.map(\.id).filter { !seen.contains($0) }
        #expect(missing.isEmpty, "codes without a case: \(missing)")
    }

    @Test(arguments: Repo.files(under: "Specs", extensions: ["yaml", "yml"]))
    func librarySpecsAreClean(_ path: String) throws {
        let diagnostics = Pipeline.check(try Repo.source(path)).diagnostics
        #expect(diagnostics.isEmpty, "\(path): \(diagnostics.map { "\($0.code.id) \($0.primary.span.start) \($0.message)" })")
    }
}
