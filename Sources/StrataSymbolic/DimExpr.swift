/// An integer expression over dims and params, as written in a spec:
/// `ngf*8`, `H//2`, `(L - k) + 1`.
public indirect enum DimExpr: Hashable, Sendable {
    case constant(Int)
    case symbol(String)
    case negate(DimExpr)
    case binary(DimOperator, DimExpr, DimExpr)

    /// Every symbol the expression mentions, in order of first appearance.
    public var symbols: [String] {
        var seen: [String] = []
        func walk(_ e: DimExpr) {
            switch e {
            case .constant: break
            case .symbol(let s): if !seen.contains(s) { seen.append(s) }
            case .negate(let a): walk(a)
            case .binary(_, let a, let b): walk(a); walk(b)
            }
        }
        walk(self)
        return seen
    }
}

/// The binary operators of the expression grammar. `/` is exact division,
/// `//` floor division and `%` the remainder that goes with it.
public enum DimOperator: String, Hashable, Sendable, CaseIterable {
    case add = "+"
    case subtract = "-"
    case multiply = "*"
    case exactDivide = "/"
    case floorDivide = "//"
    case remainder = "%"

    /// Binding strength: `*`, `/`, `//`, `%` bind tighter than `+`, `-`.
    public var precedence: Int {
        switch self {
        case .add, .subtract: return 1
        case .multiply, .exactDivide, .floorDivide, .remainder: return 2
        }
    }
}

extension DimExpr: CustomStringConvertible {
    /// The expression in the spec's own syntax, with only the parentheses it needs.
    public var description: String { render(parentPrecedence: 0, rightOperand: false) }

    private func render(parentPrecedence: Int, rightOperand: Bool) -> String {
        switch self {
        case .constant(let v): return v < 0 && parentPrecedence > 0 ? "(\(v))" : String(v)
        case .symbol(let s): return s
        case .negate(let a): return "-" + a.render(parentPrecedence: 3, rightOperand: false)
        case .binary(let op, let a, let b):
            let symbol = op.precedence == 1 ? " \(op.rawValue) " : op.rawValue
            let text = a.render(parentPrecedence: op.precedence, rightOperand: false) + symbol
                + b.render(parentPrecedence: op.precedence, rightOperand: true)
            let needsParens = op.precedence < parentPrecedence || (op.precedence == parentPrecedence && rightOperand)
            return needsParens ? "(\(text))" : text
        }
    }
}
