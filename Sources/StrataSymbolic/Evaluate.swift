/// Why an expression has no value for a binding.
public enum EvaluationError: Error, Equatable, Sendable {
    case unbound(String)
    case divisionByZero
    /// `a / b` where b does not divide a.
    case inexactDivision(Int, Int)
    case overflow
}

extension DimExpr {
    /// The expression's value with every symbol bound. Floor division and
    /// remainder round toward negative infinity, as in Python, so `-7 // 2`
    /// is -4 and `-7 % 2` is 1.
    public func evaluate(_ bindings: [String: Int]) -> Result<Int, EvaluationError> {
        switch self {
        case .constant(let v): return .success(v)
        case .symbol(let s): return bindings[s].map(Result.success) ?? .failure(.unbound(s))
        case .negate(let a):
            return a.evaluate(bindings).flatMap { v in
                v == Int.min ? .failure(.overflow) : .success(-v)
            }
        case .binary(let op, let a, let b):
            return a.evaluate(bindings).flatMap { x in
                b.evaluate(bindings).flatMap { y in Self.apply(op, x, y) }
            }
        }
    }

    public static func apply(_ op: DimOperator, _ x: Int, _ y: Int) -> Result<Int, EvaluationError> {
        switch op {
        case .add:
            let (r, o) = x.addingReportingOverflow(y)
            return o ? .failure(.overflow) : .success(r)
        case .subtract:
            let (r, o) = x.subtractingReportingOverflow(y)
            return o ? .failure(.overflow) : .success(r)
        case .multiply:
            let (r, o) = x.multipliedReportingOverflow(by: y)
            return o ? .failure(.overflow) : .success(r)
        case .exactDivide:
            if y == 0 { return .failure(.divisionByZero) }
            if x == Int.min && y == -1 { return .failure(.overflow) }
            return x % y == 0 ? .success(x / y) : .failure(.inexactDivision(x, y))
        case .floorDivide:
            if y == 0 { return .failure(.divisionByZero) }
            if x == Int.min && y == -1 { return .failure(.overflow) }
            let q = x / y
            return .success((x % y != 0) && ((x < 0) != (y < 0)) ? q - 1 : q)
        case .remainder:
            if y == 0 { return .failure(.divisionByZero) }
            if y == -1 { return .success(0) }
            let r = x % y
            return .success(r != 0 && ((r < 0) != (y < 0)) ? r + y : r)
        }
    }
}

extension EvaluationError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .unbound(let s): return "'\(s)' has no value here"
        case .divisionByZero: return "division by zero"
        case .inexactDivision(let a, let b): return "\(b) does not divide \(a) exactly (use // for floor division)"
        case .overflow: return "the value overflows a 64-bit integer"
        }
    }
}
