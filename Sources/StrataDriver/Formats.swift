import StrataDiagnostics

/// How `check` prints its diagnostics.
public enum DiagnosticFormat: String, CaseIterable, Sendable {
    case text, json, sarif, github

    public func render(_ report: CheckReport, color: Bool) -> String {
        let diagnostics = report.diagnostics.sorted
        switch self {
        case .text:
            let renderer = TextRenderer(color: color)
            let body = diagnostics.map { renderer.render($0) + "\n" }.joined()
            let errors = report.diagnostics.errorCount, warnings = report.diagnostics.warningCount
            let files = "\(report.files) spec\(report.files == 1 ? "" : "s") checked"
            if errors == 0 && warnings == 0 { return body + "\(files), no problems found\n" }
            return body + "\(files): \(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")\n"
        case .json:
            return JSONRenderer.render(diagnostics)
        case .sarif:
            return SARIFRenderer.render(diagnostics, toolVersion: Pipeline.version)
        case .github:
            return GitHubRenderer.render(diagnostics)
        }
    }
}

extension DiagnosticSet {
    /// Compiler-style text for a terminal, as the verbs other than `check` print
    /// their spec's problems on standard error.
    public func renderedText(color: Bool) -> String {
        let renderer = TextRenderer(color: color)
        return sorted.map(renderer.render).joined(separator: "\n")
    }
}

/// The process exit codes every verb shares (docs/cli.md).
public enum ExitStatus: Int32, Sendable {
    case success = 0
    /// The spec or an input is wrong; diagnostics say what.
    case specError = 1
    /// Bad flags, missing files, I/O failures.
    case usage = 2
    /// A bug in strata.
    case internalError = 3
}
