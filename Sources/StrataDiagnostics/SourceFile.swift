/// A spec file's bytes with a line index, so that byte offsets can be turned
/// into the 1-based line and column a person sees in an editor.
///
/// Columns count Unicode scalars, as libyaml does, so a column reported by
/// libyaml and one computed here agree even on lines with non-ASCII text.
public final class SourceFile: Sendable {
    public let path: String
    public let bytes: [UInt8]
    /// Byte offset of the first byte of every line.
    private let lineStarts: [Int]

    public init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
        var starts = [0]
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: "\n") {
            starts.append(i + 1)
        }
        self.lineStarts = starts
    }

    public convenience init(path: String, text: String) {
        self.init(path: path, bytes: Array(text.utf8))
    }

    public var lineCount: Int { lineStarts.count }

    /// 1-based line and column of a byte offset (clamped to the file).
    public func location(of offset: Int) -> SourceLocation {
        let offset = max(0, min(offset, bytes.count))
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        var column = 1
        var i = lineStarts[lo]
        while i < offset {
            i += Self.scalarWidth(bytes[i])
            column += 1
        }
        return SourceLocation(line: lo + 1, column: column)
    }

    /// Byte offset of a 1-based line and column (clamped to the line's end).
    public func offset(line: Int, column: Int) -> Int {
        guard line >= 1 else { return 0 }
        guard line <= lineStarts.count else { return bytes.count }
        var i = lineStarts[line - 1]
        let end = lineEnd(line)
        var c = 1
        while c < column && i < end {
            i += Self.scalarWidth(bytes[i])
            c += 1
        }
        return min(i, end)
    }

    /// Byte offset just past the last character of a line, before its newline.
    public func lineEnd(_ line: Int) -> Int {
        var end = line < lineStarts.count ? lineStarts[line] - 1 : bytes.count
        if end > lineStarts[line - 1], bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return end
    }

    /// The text of a 1-based line without its line break.
    public func lineText(_ line: Int) -> String {
        guard line >= 1 && line <= lineStarts.count else { return "" }
        return String(decoding: bytes[lineStarts[line - 1]..<lineEnd(line)], as: UTF8.self)
    }

    /// The text between two byte offsets.
    public func text(_ range: Range<Int>) -> String {
        let lo = max(0, min(range.lowerBound, bytes.count))
        let hi = max(lo, min(range.upperBound, bytes.count))
        return String(decoding: bytes[lo..<hi], as: UTF8.self)
    }

    private static func scalarWidth(_ lead: UInt8) -> Int {
        switch lead {
        case 0xF0...: return 4
        case 0xE0...: return 3
        case 0xC0...: return 2
        default: return 1
        }
    }
}

public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public let line: Int
    public let column: Int
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
    public var description: String { "\(line):\(column)" }
}

/// A byte range in one source file.
public struct SourceSpan: Sendable {
    public let file: SourceFile
    public let range: Range<Int>

    public init(file: SourceFile, range: Range<Int>) {
        self.file = file
        self.range = range
    }

    public var start: SourceLocation { file.location(of: range.lowerBound) }
    public var end: SourceLocation { file.location(of: range.upperBound) }
    public var text: String { file.text(range) }

    /// The part of this span from `offset` bytes in, `length` bytes long.
    public func subspan(offset: Int, length: Int) -> SourceSpan {
        let lo = min(range.lowerBound + max(0, offset), range.upperBound)
        let hi = min(lo + max(0, length), range.upperBound)
        return SourceSpan(file: file, range: lo..<hi)
    }

    /// An empty span just after this one, where text can be inserted.
    public var afterEnd: SourceSpan { SourceSpan(file: file, range: range.upperBound..<range.upperBound) }
}
