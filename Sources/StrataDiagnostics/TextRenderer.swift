import Foundation

/// Renders diagnostics the way compilers do: a header, the location, the
/// source lines with carets under the primary span and dashes under secondary
/// ones, then notes and help.
public struct TextRenderer: Sendable {
    public var color: Bool

    public init(color: Bool) { self.color = color }

    public func render(_ d: Diagnostic) -> String {
        var out = ""
        let sev = d.severity.rawValue
        out += paint("\(sev)[\(d.code.id)]", d.severity == .error ? "1;31" : d.severity == .warning ? "1;33" : "1;36")
        out += paint(": \(d.message)", "1") + "\n"

        let file = d.file
        let start = d.primary.span.start
        let labels = [(d.primary, true)] + d.secondary.filter { $0.span.file === file }.map { ($0, false) }
        let lines = Set(labels.map { $0.0.span.start.line }).sorted()
        let gutter = String(repeating: " ", count: String(lines.last ?? 1).count)
        out += gutter + paint("--> ", "1;34") + "\(file.path):\(start.line):\(start.column)\n"
        out += gutter + paint(" |", "1;34") + "\n"
        var previous: Int?
        for line in lines {
            if let p = previous, line > p + 1 { out += paint("...", "1;34") + "\n" }
            previous = line
            let text = file.lineText(line)
            let number = String(line)
            out += paint(String(repeating: " ", count: gutter.count - number.count) + number + " |", "1;34")
            out += (text.isEmpty ? "" : " " + expandTabs(text)) + "\n"
            for (label, isPrimary) in labels where label.span.start.line == line {
                let (pad, width) = underline(label.span, on: line, text: text)
                let mark = String(repeating: isPrimary ? "^" : "-", count: width)
                let body = mark + (label.message.isEmpty ? "" : " " + label.message)
                out += gutter + paint(" |", "1;34") + " " + String(repeating: " ", count: pad)
                out += paint(body, isPrimary ? (d.severity == .error ? "1;31" : "1;33") : "1;34") + "\n"
            }
        }
        for label in d.secondary where label.span.file !== file {
            out += gutter + paint("::: ", "1;34") + "\(label.span.file.path):\(label.span.start): \(label.message)\n"
        }
        for note in d.notes { out += gutter + paint(" = ", "1;34") + paint("note", "1") + ": \(note)\n" }
        for help in d.help { out += gutter + paint(" = ", "1;34") + paint("help", "1") + ": \(help)\n" }
        return out
    }

    /// Columns before the span and the width of its underline on `line`,
    /// counting a tab as four columns as `expandTabs` prints it.
    private func underline(_ span: SourceSpan, on line: Int, text: String) -> (Int, Int) {
        let s = span.start, e = span.end
        let scalars = Array(text.unicodeScalars)
        let from = min(s.column - 1, scalars.count)
        let to = e.line == line ? min(max(e.column - 1, from), scalars.count) : scalars.count
        func width(_ r: Range<Int>) -> Int { scalars[r].reduce(0) { $0 + ($1 == "\t" ? 4 : 1) } }
        return (width(0..<from), max(1, width(from..<to)))
    }

    private func expandTabs(_ s: String) -> String { s.replacingOccurrences(of: "\t", with: "    ") }

    private func paint(_ s: String, _ code: String) -> String {
        color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s
    }
}
