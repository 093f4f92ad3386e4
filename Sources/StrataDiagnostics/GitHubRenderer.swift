/// Renders diagnostics as GitHub Actions workflow commands, which the Actions
/// runner turns into annotations on the pull request's changed lines.
public enum GitHubRenderer {
    public static func render(_ diagnostics: [Diagnostic]) -> String {
        diagnostics.map { d in
            let s = d.primary.span
            let command = d.severity == .error ? "error" : d.severity == .warning ? "warning" : "notice"
            let properties = [
                "file=\(property(d.file.path))",
                "line=\(s.start.line)", "col=\(s.start.column)",
                "endLine=\(s.end.line)", "endColumn=\(s.end.column)",
                "title=\(property("strata \(d.code.id)"))",
            ].joined(separator: ",")
            let body = ([d.message] + d.notes.map { "note: \($0)" } + d.help.map { "help: \($0)" })
                .joined(separator: "\n")
            return "::\(command) \(properties)::\(data(body))\n"
        }.joined()
    }

    private static func data(_ s: String) -> String {
        var out = ""
        for ch in s.unicodeScalars {
            switch ch {
            case "%": out += "%25"
            case "\r": out += "%0D"
            case "\n": out += "%0A"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    private static func property(_ s: String) -> String {
        data(s).split(separator: ":", omittingEmptySubsequences: false).joined(separator: "%3A")
            .split(separator: ",", omittingEmptySubsequences: false).joined(separator: "%2C")
    }
}
