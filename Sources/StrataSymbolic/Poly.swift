/// Why symbolic arithmetic failed.
public enum SymbolicError: Error, Equatable, Sendable {
    case overflow
    case divisionByZero
    /// A symbol with no binding: neither a dim nor a constant in scope.
    case unbound(String)
}

/// The opaque parts of a polynomial: a dim symbol, or a floor division that
/// does not simplify. `a % b` is written as `a - b*(a // b)`.
public indirect enum Atom: Hashable, Sendable {
    case symbol(String)
    case floorDiv(Poly, Poly)

    var sortKey: String {
        switch self {
        case .symbol(let s): return "0" + s
        case .floorDiv(let a, let b): return "1(" + a.sortKey + ")//(" + b.sortKey + ")"
        }
    }
}

/// One factor of a monomial: an atom raised to a positive power.
public struct Factor: Hashable, Sendable {
    public let atom: Atom
    public let power: Int
}

/// A product of factors, sorted so that equal products compare equal.
public struct Monomial: Hashable, Sendable {
    public let factors: [Factor]

    public static let one = Monomial(factors: [])

    init(factors: [Factor]) { self.factors = factors.sorted { $0.atom.sortKey < $1.atom.sortKey } }

    public var degree: Int { factors.reduce(0) { $0 + $1.power } }

    func times(_ other: Monomial) -> Monomial {
        var powers: [Atom: Int] = [:]
        for f in factors + other.factors { powers[f.atom, default: 0] += f.power }
        return Monomial(factors: powers.map { Factor(atom: $0.key, power: $0.value) })
    }

    /// `self / other` when every factor of `other` appears in `self` often enough.
    func dividing(by other: Monomial) -> Monomial? {
        var powers: [Atom: Int] = [:]
        for f in factors { powers[f.atom, default: 0] += f.power }
        for f in other.factors {
            guard let p = powers[f.atom], p >= f.power else { return nil }
            powers[f.atom] = p - f.power
        }
        return Monomial(factors: powers.filter { $0.value > 0 }.map { Factor(atom: $0.key, power: $0.value) })
    }

    var sortKey: String { factors.map { "\($0.atom.sortKey)^\($0.power)" }.joined(separator: "*") }
}

/// The normal form of integer expressions over dims: a sum of monomials with
/// nonzero integer coefficients. Two expressions with equal normal forms are
/// equal for every binding; the converse holds for expressions without floor
/// division, which covers most shape arithmetic once each dim's `multiple_of`
/// is substituted in (see `DimScope`).
public struct Poly: Hashable, Sendable {
    public private(set) var terms: [Monomial: Int]

    public init(terms: [Monomial: Int] = [:]) { self.terms = terms.filter { $0.value != 0 } }

    public static func constant(_ v: Int) -> Poly { Poly(terms: [.one: v]) }
    public static func symbol(_ s: String) -> Poly { Poly(terms: [Monomial(factors: [Factor(atom: .symbol(s), power: 1)]): 1]) }
    public static let zero = Poly()

    public var isZero: Bool { terms.isEmpty }

    /// The value when the polynomial has no symbols.
    public var constant: Int? {
        if terms.isEmpty { return 0 }
        if terms.count == 1, let c = terms[.one] { return c }
        return nil
    }

    /// The symbols it mentions, inside floor divisions too, sorted.
    public var symbols: [String] {
        var seen: Set<String> = []
        func walk(_ p: Poly) {
            for m in p.terms.keys {
                for f in m.factors {
                    switch f.atom {
                    case .symbol(let s): seen.insert(s)
                    case .floorDiv(let a, let b): walk(a); walk(b)
                    }
                }
            }
        }
        walk(self)
        return seen.sorted()
    }

    var sortKey: String {
        terms.sorted { $0.key.sortKey < $1.key.sortKey }.map { "\($0.value)\($0.key.sortKey)" }.joined(separator: "+")
    }

    // MARK: arithmetic, every step checked for overflow

    public func adding(_ other: Poly) throws -> Poly {
        var t = terms
        for (m, c) in other.terms {
            let (s, o) = t[m, default: 0].addingReportingOverflow(c)
            if o { throw SymbolicError.overflow }
            t[m] = s
        }
        return Poly(terms: t)
    }

    public func negated() throws -> Poly {
        var t: [Monomial: Int] = [:]
        for (m, c) in terms {
            if c == Int.min { throw SymbolicError.overflow }
            t[m] = -c
        }
        return Poly(terms: t)
    }

    public func subtracting(_ other: Poly) throws -> Poly { try adding(other.negated()) }

    public func multiplied(by other: Poly) throws -> Poly {
        var t: [Monomial: Int] = [:]
        for (m1, c1) in terms {
            for (m2, c2) in other.terms {
                let (p, o1) = c1.multipliedReportingOverflow(by: c2)
                let m = m1.times(m2)
                let (s, o2) = t[m, default: 0].addingReportingOverflow(p)
                if o1 || o2 { throw SymbolicError.overflow }
                t[m] = s
            }
        }
        return Poly(terms: t)
    }

    public func scaled(by k: Int) throws -> Poly { try multiplied(by: .constant(k)) }

    /// `self // divisor`, rounding toward negative infinity. Multiples of a
    /// constant divisor come out of the division: (2*H + 3)//2 = H + 1 + 1//2 = H + 1.
    public func floorDivided(by divisor: Poly) throws -> Poly {
        if divisor.isZero { throw SymbolicError.divisionByZero }
        if isZero { return .zero }
        if let k = divisor.constant {
            if k < 0 { return try negated().floorDivided(by: .constant(-k)) }
            if k == 1 { return self }
            var quotient: [Monomial: Int] = [:], remainder: [Monomial: Int] = [:]
            for (m, c) in terms {
                switch DimExpr.apply(.floorDivide, c, k) {
                case .success(let q):
                    quotient[m] = q
                    remainder[m] = c - q * k
                case .failure: throw SymbolicError.overflow
                }
            }
            let q = Poly(terms: quotient), r = Poly(terms: remainder)
            // 0 <= r < k when r is a constant, so r//k is 0.
            if r.constant != nil { return q }
            return try q.adding(Poly(terms: [Monomial(factors: [Factor(atom: .floorDiv(r, .constant(k)), power: 1)]): 1]))
        }
        if self == divisor { return .constant(1) }
        if let quotient = exactQuotient(by: divisor) { return quotient }
        return Poly(terms: [Monomial(factors: [Factor(atom: .floorDiv(self, divisor), power: 1)]): 1])
    }

    /// `self / divisor` when it divides every term, coefficient and monomial:
    /// then the division is exact for every binding.
    public func exactQuotient(by divisor: Poly) -> Poly? {
        guard divisor.terms.count == 1, let (dm, dc) = divisor.terms.first, dc != 0 else { return nil }
        var t: [Monomial: Int] = [:]
        for (m, c) in terms {
            guard c % dc == 0, let q = m.dividing(by: dm) else { return nil }
            if dc == -1 && c == Int.min { return nil }
            t[q, default: 0] += c / dc
        }
        return Poly(terms: t)
    }

    /// `self % divisor`, with the sign of the divisor: self - divisor*(self//divisor).
    public func remainder(dividingBy divisor: Poly) throws -> Poly {
        try subtracting(divisor.multiplied(by: floorDivided(by: divisor)))
    }

    /// The value for a binding of every symbol it mentions.
    public func evaluate(_ binding: [String: Int]) throws -> Int {
        var total = 0
        for (m, c) in terms {
            var product = c
            for f in m.factors {
                let v: Int
                switch f.atom {
                case .symbol(let s):
                    guard let b = binding[s] else { throw SymbolicError.unbound(s) }
                    v = b
                case .floorDiv(let a, let d):
                    let x = try a.evaluate(binding), y = try d.evaluate(binding)
                    switch DimExpr.apply(.floorDivide, x, y) {
                    case .success(let q): v = q
                    case .failure(.divisionByZero): throw SymbolicError.divisionByZero
                    case .failure: throw SymbolicError.overflow
                    }
                }
                for _ in 0..<f.power {
                    let (p, o) = product.multipliedReportingOverflow(by: v)
                    if o { throw SymbolicError.overflow }
                    product = p
                }
            }
            let (s, o) = total.addingReportingOverflow(product)
            if o { throw SymbolicError.overflow }
            total = s
        }
        return total
    }

    /// Replaces symbols by polynomials, simplifying floor divisions again.
    public func substituting(_ values: [String: Poly]) throws -> Poly {
        var total = Poly.zero
        for (m, c) in terms {
            var product = Poly.constant(c)
            for f in m.factors {
                let v: Poly
                switch f.atom {
                case .symbol(let s): v = values[s] ?? .symbol(s)
                case .floorDiv(let a, let d): v = try a.substituting(values).floorDivided(by: d.substituting(values))
                }
                for _ in 0..<f.power { product = try product.multiplied(by: v) }
            }
            total = try total.adding(product)
        }
        return total
    }
}
