import Foundation

/// Renders diagnostics as JSON Lines: one object per diagnostic, one per line,
/// keys sorted, so output can be streamed and diffed.
public enum JSONRenderer {
    struct Position: Encodable {
        let line: Int
        let column: Int
    }

    struct LabelObject: Encodable {
        let file: String
        let line: Int
        let column: Int
        let end: Position
        let message: String
    }

    struct FixObject: Encodable {
        let line: Int
        let column: Int
        let end: Position
        let replacement: String
    }

    struct Object: Encodable {
        let file: String
        let line: Int
        let column: Int
        let end: Position
        let severity: String
        let code: String
        let message: String
        let label: String
        let notes: [String]
        let help: [String]
        let labels: [LabelObject]
        let fixes: [FixObject]
    }

    public static func render(_ diagnostics: [Diagnostic]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return diagnostics.map { d in
            let s = d.primary.span
            let object = Object(
                file: d.file.path, line: s.start.line, column: s.start.column,
                end: Position(s.end), severity: d.severity.rawValue, code: d.code.id,
                message: d.message, label: d.primary.message, notes: d.notes, help: d.help,
                labels: d.secondary.map {
                    LabelObject(file: $0.span.file.path, line: $0.span.start.line, column: $0.span.start.column,
                                end: Position($0.span.end), message: $0.message)
                },
                fixes: d.fixIts.map {
                    FixObject(line: $0.span.start.line, column: $0.span.start.column,
                              end: Position($0.span.end), replacement: $0.replacement)
                })
            let data = (try? encoder.encode(object)) ?? Data()
            return String(decoding: data, as: UTF8.self) + "\n"
        }.joined()
    }
}

extension JSONRenderer.Position {
    init(_ l: SourceLocation) { self.init(line: l.line, column: l.column) }
}
