import StrataDiagnostics
import StrataSymbolic

/// An integer expression as written, with the span of every part, so that a
/// later phase can point at the one name or operand at fault.
public struct ExprSyntax: Sendable {
    public indirect enum Kind: Sendable {
        case int(Int)
        case name(String)
        case negate(ExprSyntax)
        case binary(DimOperator, ExprSyntax, ExprSyntax)
    }

    public let kind: Kind
    public let span: SourceSpan

    public init(_ kind: Kind, span: SourceSpan) {
        self.kind = kind
        self.span = span
    }

    /// The expression without source positions.
    public var expr: DimExpr {
        switch kind {
        case .int(let v): return .constant(v)
        case .name(let n): return .symbol(n)
        case .negate(let a): return .negate(a.expr)
        case .binary(let op, let a, let b): return .binary(op, a.expr, b.expr)
        }
    }

    /// Every name the expression mentions, with where it is written.
    public var names: [(name: String, span: SourceSpan)] {
        switch kind {
        case .int: return []
        case .name(let n): return [(n, span)]
        case .negate(let a): return a.names
        case .binary(_, let a, let b): return a.names + b.names
        }
    }

    /// The literal value, when the expression is a plain integer.
    public var constant: Int? {
        switch kind {
        case .int(let v): return v
        case .negate(let a): return a.constant.flatMap { $0 == Int.min ? nil : -$0 }
        default: return nil
        }
    }
}

/// Parses the expression grammar of spec-language.md section 2:
///
///     expr   := term (('+' | '-') term)*
///     term   := factor (('*' | '/' | '//' | '%') factor)*
///     factor := INT | NAME | '(' expr ')' | '-' factor
public struct ExprParser {
    /// Parentheses and unary minus nest; a real spec nests a few levels.
    static let maxNesting = 64

    enum Token: Equatable {
        case int(Int), name(String), op(DimOperator), open, close, end

        var text: String {
            switch self {
            case .int(let v): return String(v)
            case .name(let n): return n
            case .op(let o): return o.rawValue
            case .open: return "("
            case .close: return ")"
            case .end: return "end of expression"
            }
        }
    }

    /// A YAML number written with a point or an exponent (`0.2`, `1e-5`):
    /// a float even when its value is whole. Digits alone are an integer,
    /// however large, so an overlong one is reported as out of range.
    public static func floatLiteral(_ text: String) -> Double? {
        // Decimal notation only: Double("0xE") would read hexadecimal.
        var rest = Substring(text)
        if rest.first == "-" || rest.first == "+" { rest = rest.dropFirst() }
        let mantissa = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        let exponent = rest.dropFirst(mantissa.count)
        guard mantissa.contains(where: \.isNumber), mantissa.filter({ $0 == "." }).count <= 1 else { return nil }
        if !exponent.isEmpty {
            var e = exponent.dropFirst()
            guard exponent.first == "e" || exponent.first == "E" else { return nil }
            if e.first == "-" || e.first == "+" { e = e.dropFirst() }
            guard !e.isEmpty, e.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        }
        guard mantissa.contains(".") || !exponent.isEmpty, let d = Double(text), d.isFinite else { return nil }
        return d
    }

    private let bytes: [UInt8]
    private let base: SourceSpan?
    private let whole: SourceSpan
    private var tokens: [(Token, Range<Int>)] = []
    private var position = 0

    /// Parses a YAML scalar as an expression, or says why it is not one.
    /// `what` names the expected thing in messages ("an integer expression").
    public static func parse(_ node: YAMLNode, what: String = "an integer expression") -> Result<ExprSyntax, Diagnostic> {
        guard let text = node.scalar, !node.isNull else {
            return .failure(Diagnostic(.wrongType, "expected \(what), found \(node.kindDescription)", at: node.span,
                                       label: "expected \(what)"))
        }
        if node.plainScalar != nil, let d = ExprParser.floatLiteral(text) {
            return .failure(Diagnostic(.wrongType, "expected \(what), found the non-integer number \(text)",
                                       at: node.span, label: "not an integer",
                                       help: d.rounded() == d ? ["write it as \(Int(exactly: d).map(String.init) ?? text)"] : []))
        }
        var parser = ExprParser(text: text, node: node)
        do {
            return .success(try parser.parseAll())
        } catch let d as Diagnostic {
            return .failure(d)
        } catch {
            return .failure(Diagnostic(.exprSyntax, "\(error)", at: node.span))
        }
    }

    private init(text: String, node: YAMLNode) {
        self.bytes = Array(text.utf8)
        self.whole = node.span
        // The scalar's text sits verbatim in the source when it is plain or
        // quoted without escapes; then every token gets its exact column.
        let source = node.span.text
        if let r = source.utf8.firstRange(of: text.utf8), !text.isEmpty {
            let offset = source.utf8.distance(from: source.utf8.startIndex, to: r.lowerBound)
            self.base = node.span.subspan(offset: offset, length: bytes.count)
        } else {
            self.base = nil
        }
    }

    private func span(_ r: Range<Int>) -> SourceSpan {
        guard let base else { return whole }
        return base.subspan(offset: r.lowerBound, length: max(1, r.count))
    }

    private func fail(_ message: String, _ r: Range<Int>, code: DiagnosticCode = .exprSyntax, label: String = "",
                      secondary: [Label] = [], help: [String] = []) -> Diagnostic {
        Diagnostic(code, message, at: span(r), label: label, secondary: secondary, help: help)
    }

    private mutating func tokenize() throws {
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            let start = i
            switch c {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                i += 1
                continue
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) { i += 1 }
                if i < bytes.count, bytes[i] == UInt8(ascii: ".") || isNameByte(bytes[i]) {
                    var j = i
                    while j < bytes.count, bytes[j] == UInt8(ascii: ".") || isNameByte(bytes[j]) { j += 1 }
                    let word = String(decoding: bytes[start..<j], as: UTF8.self)
                    throw fail("'\(word)' is not an integer or a name", start..<j,
                               label: "expected an integer or a name",
                               help: bytes[i] == UInt8(ascii: ".") ? ["dimensions and integer attributes take whole numbers"]
                                   : ["write a multiplication explicitly, as in `2*H`"])
                }
                let digits = String(decoding: bytes[start..<i], as: UTF8.self)
                guard let v = Int(digits) else {
                    throw fail("integer literal \(digits) is too large", start..<i, code: .intOverflow,
                               label: "larger than \(Int.max)")
                }
                tokens.append((.int(v), start..<i))
                continue
            case UInt8(ascii: "("): tokens.append((.open, i..<i + 1))
            case UInt8(ascii: ")"): tokens.append((.close, i..<i + 1))
            case UInt8(ascii: "+"): tokens.append((.op(.add), i..<i + 1))
            case UInt8(ascii: "-"): tokens.append((.op(.subtract), i..<i + 1))
            case UInt8(ascii: "*"): tokens.append((.op(.multiply), i..<i + 1))
            case UInt8(ascii: "%"): tokens.append((.op(.remainder), i..<i + 1))
            case UInt8(ascii: "/"):
                if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "/") {
                    tokens.append((.op(.floorDivide), i..<i + 2))
                    i += 2
                    continue
                }
                tokens.append((.op(.exactDivide), i..<i + 1))
            default:
                if isNameByte(c) {
                    while i < bytes.count, isNameByte(bytes[i]) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) { i += 1 }
                    tokens.append((.name(String(decoding: bytes[start..<i], as: UTF8.self)), start..<i))
                    continue
                }
                var end = i + 1
                while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
                let ch = String(decoding: bytes[i..<end], as: UTF8.self)
                throw fail("unexpected character '\(ch)' in expression", i..<end,
                           label: "not part of an expression",
                           help: ["expressions use integers, names, + - * / // % and parentheses"])
            }
            i += 1
        }
        tokens.append((.end, bytes.count..<bytes.count))
    }

    private func isNameByte(_ c: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(c)
            || c == UInt8(ascii: "_")
    }

    private mutating func parseAll() throws -> ExprSyntax {
        try tokenize()
        if tokens.count == 1 { throw fail("the expression is empty", 0..<0, label: "expected an expression") }
        let e = try expression(depth: 0)
        let (t, r) = tokens[position]
        if t != .end {
            throw fail("unexpected '\(t.text)' after a complete expression", r,
                       label: t == .close ? "no '(' to close" : "expected an operator or the end")
        }
        return e
    }

    private func join(_ a: ExprSyntax, _ b: ExprSyntax) -> SourceSpan {
        guard a.span.file === b.span.file, base != nil else { return whole }
        return SourceSpan(file: a.span.file, range: a.span.range.lowerBound..<max(a.span.range.lowerBound, b.span.range.upperBound))
    }

    private mutating func expression(depth: Int) throws -> ExprSyntax {
        try binary(precedence: 1, depth: depth)
    }

    /// Left-associative operators of one precedence level over the next level's operands.
    private mutating func binary(precedence: Int, depth: Int) throws -> ExprSyntax {
        func operand(_ p: inout ExprParser) throws -> ExprSyntax {
            precedence == 1 ? try p.binary(precedence: 2, depth: depth) : try p.factor(depth: depth)
        }
        var lhs = try operand(&self)
        while case .op(let op) = tokens[position].0, op.precedence == precedence {
            position += 1
            let rhs = try operand(&self)
            lhs = ExprSyntax(.binary(op, lhs, rhs), span: join(lhs, rhs))
        }
        return lhs
    }

    private mutating func factor(depth: Int) throws -> ExprSyntax {
        let (t, r) = tokens[position]
        if depth >= Self.maxNesting {
            throw fail("the expression nests more than \(Self.maxNesting) levels deep", r, label: "nesting limit")
        }
        switch t {
        case .int(let v):
            position += 1
            return ExprSyntax(.int(v), span: span(r))
        case .name(let n):
            position += 1
            return ExprSyntax(.name(n), span: span(r))
        case .op(.subtract):
            position += 1
            let a = try factor(depth: depth + 1)
            return ExprSyntax(.negate(a), span: base == nil ? whole : SourceSpan(file: whole.file, range: span(r).range.lowerBound..<a.span.range.upperBound))
        case .open:
            position += 1
            let inner = try expression(depth: depth + 1)
            let (closing, cr) = tokens[position]
            guard closing == .close else {
                throw fail("expected ')' but found \(closing == .end ? "the end of the expression" : "'\(closing.text)'")",
                           cr, label: "expected ')'", secondary: [Label(span(r), "to close this '('")])
            }
            position += 1
            return ExprSyntax(inner.kind, span: base == nil ? whole : SourceSpan(file: whole.file, range: span(r).range.lowerBound..<span(cr).range.upperBound))
        default:
            if t == .end, position > 0, case .op(let op) = tokens[position - 1].0 {
                throw fail("'\(op.rawValue)' has no right operand", tokens[position - 1].1,
                           label: "expected a number, a name or '(' after this")
            }
            let found = t == .end ? "the end of the expression" : "'\(t.text)'"
            throw fail(t == .end ? "the expression ends too early" : "unexpected \(found)", r,
                       label: "expected a number, a name or '('")
        }
    }
}
