/// A binding of dims (their real values) under which a claim fails.
public struct Counterexample: Sendable, CustomStringConvertible {
    public let binding: [(name: String, value: Int)]
    public var description: String { binding.map { "\($0.name) = \($0.value)" }.joined(separator: ", ") }
}

/// The outcome of trying to prove a fact for every size the dims allow.
public enum Proof: Sendable {
    case proven
    case refuted(Counterexample)
    /// Neither proven nor refuted by the `checked` sampled bindings.
    case unknown(checked: Int)

    public var isProven: Bool {
        if case .proven = self { return true }
        return false
    }
}

/// A constraint that would make a failing fact hold.
public struct ConstraintSuggestion: Sendable, CustomStringConvertible {
    public let dim: String
    public let constraint: DimScope.Constraint
    public let changed: String
    public var description: String {
        changed == "min" ? "add `min: \(constraint.min)` to \(dim)" : "add `multiple_of: \(constraint.multipleOf)` to \(dim)"
    }
}

extension DimScope {
    /// How many bindings a search for a counterexample tries at most.
    public static let sampleLimit = 4096

    public func proveEqual(_ a: Poly, _ b: Poly) -> Proof {
        guard let d = try? a.subtracting(b) else { return .unknown(checked: 0) }
        if d.isZero { return .proven }
        // Bind every symbol of both sides, so the counterexample evaluates each.
        return search(Array(Set(a.symbols + b.symbols)).sorted()) { (try? d.evaluate($0)).map { $0 != 0 } ?? false }
    }

    /// Proves `p >= 1`: shifting every symbol to its lower bound plus a
    /// non-negative variable, a polynomial whose non-constant coefficients are
    /// all non-negative (floor divisions included) is smallest at the bounds.
    public func provePositive(_ p: Poly) -> Proof {
        let symbols = p.symbols
        let low = Dictionary(uniqueKeysWithValues: symbols.map { ($0, lowerBound($0)) })
        if let shifted = try? p.substituting(Dictionary(uniqueKeysWithValues: symbols.map {
            ($0, (try? Poly.symbol($0).adding(.constant(low[$0] ?? 1))) ?? .symbol($0))
        })), Self.isMonotone(shifted), let minimum = try? p.evaluate(low) {
            return minimum >= 1 ? .proven : .refuted(counterexample(low))
        }
        return search(symbols) { (try? p.evaluate($0)).map { $0 < 1 } ?? false }
    }

    /// Proves that `divisor` divides `p` for every allowed binding.
    public func proveDivisible(_ p: Poly, by divisor: Poly) -> Proof {
        if p.exactQuotient(by: divisor) != nil { return .proven }
        if divisor.constant != nil, let r = try? p.remainder(dividingBy: divisor), r.isZero { return .proven }
        let symbols = Array(Set(p.symbols + divisor.symbols)).sorted()
        return search(symbols) { b in
            guard let x = try? p.evaluate(b), let y = try? divisor.evaluate(b), y != 0 else { return false }
            return x % y != 0
        }
    }

    /// The real dim values of a binding of polynomial symbols.
    public func counterexample(_ binding: [String: Int]) -> Counterexample {
        Counterexample(binding: names.filter { binding[$0] != nil }.map { name in
            (name, (binding[name] ?? 0).multipliedReportingOverflow(by: constraint(name).multipleOf).partialValue)
        })
    }

    /// Polynomial-symbol bindings for `real` dim values, or nil when a value
    /// breaks its dim's constraints.
    public func binding(real: [String: Int]) -> [String: Int]? {
        var b: [String: Int] = [:]
        for (name, v) in real {
            let c = constraint(name)
            guard v >= c.min, v >= 1, v % c.multipleOf == 0 else { return nil }
            b[name] = v / c.multipleOf
        }
        return b
    }

    /// What a refuted equality `a == b` looks like at its counterexample, and
    /// the constraint under which it would hold for every size.
    public func explainInequality(_ a: Poly, _ b: Poly, at c: Counterexample)
        -> (values: (Int, Int)?, suggestion: ConstraintSuggestion?)
    {
        guard !c.binding.isEmpty else { return (nil, nil) }
        let hat = binding(real: Dictionary(uniqueKeysWithValues: c.binding.map { ($0.name, $0.value) }))
        let values = hat.flatMap { h in (try? a.evaluate(h)).flatMap { x in (try? b.evaluate(h)).map { (x, $0) } } }
        let ea = expression(a), eb = expression(b)
        let suggestion = suggest(for: Array(Set(a.symbols + b.symbols)).sorted()) { s in
            guard let x = try? s.normalize(ea), let y = try? s.normalize(eb) else { return .unknown(checked: 0) }
            return s.proveEqual(x, y)
        }
        return (values, suggestion)
    }

    /// Which kind of constraint to try first: a lower bound fixes sizes that
    /// are too small, a divisor fixes sizes that do not line up.
    public enum ConstraintKind: Sendable { case min, multipleOf }

    /// The smallest change to one dim's constraints, among `dims`, under which
    /// `holds` proves its fact.
    public func suggest(for dims: [String], preferring first: ConstraintKind = .multipleOf,
                        _ holds: (DimScope) -> Proof) -> ConstraintSuggestion? {
        let order: [ConstraintKind] = first == .min ? [.min, .multipleOf] : [.multipleOf, .min]
        for kind in order {
            if let s = kind == .min ? suggestMin(dims, holds) : suggestMultiple(dims, holds) { return s }
        }
        return nil
    }

    private func suggestMultiple(_ dims: [String], _ holds: (DimScope) -> Proof) -> ConstraintSuggestion? {
        for dim in dims {
            let c = constraint(dim)
            for factor in [2, 3, 4, 5, 6, 8, 10, 12, 16, 24, 32, 64] {
                var stronger = c
                stronger.multipleOf = c.multipleOf * factor
                if holds(with(dim, stronger)).isProven {
                    return ConstraintSuggestion(dim: dim, constraint: stronger, changed: "multiple_of")
                }
            }
        }
        return nil
    }

    private func suggestMin(_ dims: [String], _ holds: (DimScope) -> Proof) -> ConstraintSuggestion? {
        for dim in dims {
            let c = constraint(dim)
            for m in Array(c.min + 1...c.min + 64) + [128, 256, 512, 1024, 4096] where m > c.min {
                var stronger = c
                stronger.min = m
                if holds(with(dim, stronger)).isProven {
                    return ConstraintSuggestion(dim: dim, constraint: stronger, changed: "min")
                }
            }
        }
        return nil
    }

    /// Tries bindings in order of size, smallest first; `fails` says whether a
    /// binding breaks the fact.
    func search(_ symbols: [String], _ fails: ([String: Int]) -> Bool) -> Proof {
        // Fewer symbols leave room to try more values of each.
        let offsets: [Int]
        switch symbols.count {
        case 0, 1: offsets = Array(0..<256) + [511, 1023, 4095]
        case 2: offsets = Array(0..<40) + [63, 127, 255]
        default: offsets = [0, 1, 2, 3, 4, 5, 7, 10, 15, 31, 63, 127]
        }
        var combos: [[Int]] = [[]]
        for _ in symbols {
            combos = combos.flatMap { c in offsets.indices.map { c + [$0] } }
            if combos.count > Self.sampleLimit * 4 { break }
        }
        combos = combos.filter { $0.count == symbols.count }
        if combos.isEmpty {
            // Too many symbols to enumerate: a deterministic spread instead.
            var rng: UInt64 = 0x5EED
            combos = (0..<Self.sampleLimit).map { _ in
                symbols.map { _ in
                    rng = rng &* 6364136223846793005 &+ 1442695040888963407
                    return Int(rng >> 33) % offsets.count
                }
            }
        }
        combos.sort { $0.reduce(0, +) < $1.reduce(0, +) }
        var checked = 0
        for combo in combos.prefix(Self.sampleLimit) {
            var b: [String: Int] = [:]
            for (s, i) in zip(symbols, combo) { b[s] = lowerBound(s) + offsets[i] }
            checked += 1
            if fails(b) { return .refuted(counterexample(b)) }
        }
        return .unknown(checked: checked)
    }

    static func isMonotone(_ p: Poly) -> Bool {
        p.terms.allSatisfy { m, c in
            m.factors.isEmpty || (c >= 0 && m.factors.allSatisfy { f in
                switch f.atom {
                case .symbol: return true
                case .floorDiv(let a, let d): return (d.constant ?? 0) > 0 && isMonotone(a)
                }
            })
        }
    }
}
