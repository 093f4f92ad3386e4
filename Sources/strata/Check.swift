import ArgumentParser
import Foundation
import StrataDriver

extension DiagnosticFormat: ExpressibleByArgument {}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Parse and check specs, reporting every problem with its location.",
        discussion: """
            Exit status: 0 when every spec is well formed, 1 when any has an error \
            (or a warning, with --werror), 2 for a usage or I/O problem.
            """
    )

    @Argument(help: "Spec files, or directories searched recursively for *.yaml and *.yml.")
    var specs: [String]

    @Option(help: "Output format: text, json (one object per line), sarif (SARIF 2.1.0) or github (workflow annotations).")
    var format: DiagnosticFormat = .text

    @Flag(help: "Treat warnings as errors.")
    var werror = false

    func run() throws {
        var report = try Pipeline.check(paths: specs)
        if werror { report.diagnostics.promoteWarnings() }
        print(format.render(report, color: Terminal.wantsColor), terminator: "")
        if report.diagnostics.hasErrors { throw ExitCode(ExitStatus.specError.rawValue) }
    }
}

enum Terminal {
    /// Colour only on a terminal, and never when NO_COLOR is set (no-color.org).
    static var wantsColor: Bool {
        let env = ProcessInfo.processInfo.environment
        return isatty(STDOUT_FILENO) != 0 && env["NO_COLOR"] == nil && env["TERM"] != "dumb"
    }
}
