/// The run-time size symbols of a spec with their constraints, and the
/// compile-time constants (params) expressions may use.
///
/// A dim with `multiple_of: m` is represented inside polynomials by the
/// symbol of the same name standing for `dim / m`, so that `H` with
/// `multiple_of: 8` is the polynomial `8*H'`; every fact that follows from
/// divisibility (H//2*2 == H, H/4 exact) then falls out of plain algebra.
public struct DimScope: Sendable {
    public struct Constraint: Sendable, Equatable {
        public var min: Int
        public var multipleOf: Int
        public init(min: Int = 1, multipleOf: Int = 1) {
            self.min = min
            self.multipleOf = multipleOf
        }
    }

    /// Dims in declaration order.
    public private(set) var names: [String] = []
    public private(set) var constraints: [String: Constraint] = [:]
    public var constants: [String: Int] = [:]

    public init() {}

    public mutating func declare(_ name: String, _ c: Constraint = Constraint()) {
        if constraints[name] == nil { names.append(name) }
        constraints[name] = c
    }

    public func constraint(_ name: String) -> Constraint { constraints[name] ?? Constraint() }

    /// The smallest value of the polynomial symbol standing for `name / multiple_of`.
    func lowerBound(_ name: String) -> Int {
        let c = constraint(name)
        return max(1, (max(c.min, 1) + c.multipleOf - 1) / c.multipleOf)
    }

    /// The scope with one constraint changed, to test a suggestion.
    public func with(_ name: String, _ c: Constraint) -> DimScope {
        var s = self
        s.constraints[name] = c
        return s
    }

    // MARK: normalization

    /// A division `numerator / divisor` that must be exact for every allowed
    /// binding but is not exact term by term.
    public struct Obligation: Sendable {
        public let numerator: Poly
        public let divisor: Poly
    }

    /// The normal form of an expression; exact divisions that algebra alone
    /// cannot show exact are returned as obligations for the prover.
    public func normalize(_ e: DimExpr, obligations: inout [Obligation]) throws -> Poly {
        switch e {
        case .constant(let v): return .constant(v)
        case .symbol(let s):
            if let v = constants[s] { return .constant(v) }
            guard constraints[s] != nil else { throw SymbolicError.unbound(s) }
            let m = constraint(s).multipleOf
            return m == 1 ? .symbol(s) : try Poly.symbol(s).scaled(by: m)
        case .negate(let a): return try normalize(a, obligations: &obligations).negated()
        case .binary(let op, let a, let b):
            let x = try normalize(a, obligations: &obligations), y = try normalize(b, obligations: &obligations)
            switch op {
            case .add: return try x.adding(y)
            case .subtract: return try x.subtracting(y)
            case .multiply: return try x.multiplied(by: y)
            case .floorDivide: return try x.floorDivided(by: y)
            case .remainder: return try x.remainder(dividingBy: y)
            case .exactDivide:
                if y.isZero { throw SymbolicError.divisionByZero }
                if let q = x.exactQuotient(by: y) { return q }
                obligations.append(Obligation(numerator: x, divisor: y))
                return try x.floorDivided(by: y)
            }
        }
    }

    /// The normal form, for expressions without exact divisions to prove.
    public func normalize(_ e: DimExpr) throws -> Poly {
        var ignored: [Obligation] = []
        return try normalize(e, obligations: &ignored)
    }

    // MARK: rendering

    /// The polynomial as an expression over the dims themselves (dividing a
    /// `multiple_of` symbol back out), simplest terms last: `2*H + 1`, `H/2`.
    public func expression(_ p: Poly) -> DimExpr {
        let terms = p.terms.sorted { a, b in
            if a.key.degree != b.key.degree { return a.key.degree > b.key.degree }
            return a.key.sortKey < b.key.sortKey
        }
        var result: DimExpr?
        for (m, c) in terms {
            var factors: [DimExpr] = []
            var modulus = 1
            // Dims in declaration order (N, C, H, W), floor divisions after them.
            let order = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
            let sorted = m.factors.sorted { a, b in
                switch (a.atom, b.atom) {
                case (.symbol(let x), .symbol(let y)): return (order[x] ?? Int.max, x) < (order[y] ?? Int.max, y)
                case (.symbol, _): return true
                case (_, .symbol): return false
                default: return a.atom.sortKey < b.atom.sortKey
                }
            }
            for f in sorted {
                let base: DimExpr
                switch f.atom {
                case .symbol(let s):
                    base = .symbol(s)
                    for _ in 0..<f.power { modulus = modulus.multipliedReportingOverflow(by: constraint(s).multipleOf).partialValue }
                case .floorDiv(let a, let d):
                    base = .binary(.floorDivide, expression(a), expression(d))
                }
                for _ in 0..<f.power { factors.append(base) }
            }
            let g = gcd(abs(c), modulus)
            let coefficient = abs(c) / g, divisor = modulus / g
            // A left fold prints without parentheses: 3*N*H*H.
            let leading: [DimExpr] = coefficient != 1 || factors.isEmpty ? [.constant(coefficient)] : []
            var t = (leading + factors).dropFirst().reduce((leading + factors)[0]) { .binary(.multiply, $0, $1) }
            if divisor != 1 { t = .binary(.exactDivide, t, .constant(divisor)) }
            if let r = result {
                result = .binary(c < 0 ? .subtract : .add, r, t)
            } else {
                result = c < 0 ? .negate(t) : t
            }
        }
        return result ?? .constant(0)
    }

    /// The polynomial as a person reads it: `(H + 1)//2`, `H/2`, `64`.
    public func describe(_ p: Poly) -> String { expression(p).description }
}

func gcd(_ a: Int, _ b: Int) -> Int {
    var (x, y) = (abs(a), abs(b))
    while y != 0 { (x, y) = (y, x % y) }
    return max(x, 1)
}
