import StrataSymbolic
import Testing

/// The simplifier and the prover against plain evaluation on random
/// expressions and random bindings that respect the dims' constraints.
@Suite struct SymbolicPropertyTests {
    static let dims = ["N", "H", "W"]

    static func randomScope(_ rng: inout SplitMix64) -> DimScope {
        var scope = DimScope()
        for d in dims {
            scope.declare(d, .init(min: Int.random(in: 1...9, using: &rng), multipleOf: [1, 1, 2, 3, 4, 8].randomElement(using: &rng) ?? 1))
        }
        return scope
    }

    static func randomExpr(_ depth: Int, _ rng: inout SplitMix64) -> DimExpr {
        if depth == 0 || Int.random(in: 0..<4, using: &rng) == 0 {
            return Bool.random(using: &rng) ? .constant(Int.random(in: -5...12, using: &rng))
                : .symbol(dims.randomElement(using: &rng) ?? "N")
        }
        let a = randomExpr(depth - 1, &rng)
        switch Int.random(in: 0..<8, using: &rng) {
        case 0: return .negate(a)
        case 1, 2: return .binary(.add, a, randomExpr(depth - 1, &rng))
        case 3: return .binary(.subtract, a, randomExpr(depth - 1, &rng))
        case 4: return .binary(.multiply, a, randomExpr(depth - 1, &rng))
        case 5: return .binary(.floorDivide, a, Bool.random(using: &rng) ? .constant(Int.random(in: 1...6, using: &rng)) : randomExpr(depth - 1, &rng))
        case 6: return .binary(.remainder, a, .constant(Int.random(in: 1...6, using: &rng)))
        default: return .binary(.exactDivide, .binary(.multiply, a, .constant(4)), .constant([1, 2, 4].randomElement(using: &rng) ?? 2))
        }
    }

    /// Real dim values allowed by the scope.
    static func randomBinding(_ scope: DimScope, _ rng: inout SplitMix64) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: dims.map { d in
            let c = scope.constraint(d)
            let lo = (max(c.min, 1) + c.multipleOf - 1) / c.multipleOf
            return (d, c.multipleOf * Int.random(in: lo...(lo + 40), using: &rng))
        })
    }

    @Test func normalFormEvaluatesLikeTheExpression() throws {
        var rng = SplitMix64(state: 42)
        var compared = 0
        for _ in 0..<3000 {
            let scope = Self.randomScope(&rng)
            let e = Self.randomExpr(4, &rng)
            guard let p = try? scope.normalize(e) else { continue }
            for _ in 0..<5 {
                let real = Self.randomBinding(scope, &rng)
                guard case .success(let want) = e.evaluate(real), let hat = scope.binding(real: real),
                      let got = try? p.evaluate(hat) else { continue }
                #expect(got == want, "\(e) normalized to \(scope.describe(p)): \(got) != \(want) at \(real)")
                compared += 1
            }
        }
        #expect(compared > 5000)
    }

    @Test func renderedExpressionsNormalizeBackToTheSameForm() throws {
        var rng = SplitMix64(state: 7)
        for _ in 0..<2000 {
            let scope = Self.randomScope(&rng)
            guard let p = try? scope.normalize(Self.randomExpr(4, &rng)), let back = try? scope.normalize(scope.expression(p)) else { continue }
            #expect(back == p, "\(scope.describe(p)) renders to \(scope.expression(p)) which normalizes to \(scope.describe(back))")
        }
    }

    @Test func proofsAreNeverRefutedBySampling() throws {
        var rng = SplitMix64(state: 99)
        var proven = 0
        for _ in 0..<3000 {
            let scope = Self.randomScope(&rng)
            let a = Self.randomExpr(3, &rng)
            // Equal by construction half of the time: b is a rearranged copy of a.
            let b: DimExpr = Bool.random(using: &rng) ? .binary(.subtract, .binary(.add, a, .constant(3)), .constant(3))
                : Self.randomExpr(3, &rng)
            guard let pa = try? scope.normalize(a), let pb = try? scope.normalize(b) else { continue }
            let equal = scope.proveEqual(pa, pb).isProven
            let positive = scope.provePositive(pa).isProven
            if equal || positive { proven += 1 }
            for _ in 0..<20 {
                let real = Self.randomBinding(scope, &rng)
                guard case .success(let x) = a.evaluate(real), case .success(let y) = b.evaluate(real) else { continue }
                if equal { #expect(x == y, "claimed \(a) == \(b), but at \(real): \(x) vs \(y)") }
                if positive { #expect(x >= 1, "claimed \(a) >= 1, but at \(real) it is \(x)") }
            }
        }
        #expect(proven > 500)
    }

    @Test func refutationsComeWithRealCounterexamples() throws {
        var rng = SplitMix64(state: 5)
        for _ in 0..<1000 {
            let scope = Self.randomScope(&rng)
            let a = Self.randomExpr(3, &rng), b = Self.randomExpr(3, &rng)
            guard let pa = try? scope.normalize(a), let pb = try? scope.normalize(b),
                  case .refuted(let c) = scope.proveEqual(pa, pb) else { continue }
            let real = Dictionary(uniqueKeysWithValues: c.binding.map { ($0.name, $0.value) })
            let hat = try #require(scope.binding(real: real), "counterexample \(c) breaks the constraints")
            #expect(try pa.evaluate(hat) != pb.evaluate(hat))
        }
    }

    @Test func knownShapeFacts() throws {
        var scope = DimScope()
        scope.declare("H", .init(min: 16, multipleOf: 4))
        func n(_ e: DimExpr) throws -> Poly { try scope.normalize(e) }
        let h = DimExpr.symbol("H")
        // A stride-2 convolution with padding 1 halves a multiple of 2 exactly.
        let conv: DimExpr = .binary(.add, .binary(.floorDivide, .binary(.subtract, .binary(.add, h, .constant(2)), .constant(3)), .constant(2)), .constant(1))
        #expect(try n(conv) == n(.binary(.exactDivide, h, .constant(2))))
        #expect(scope.describe(try n(conv)) == "H/2")
        #expect(try n(.binary(.remainder, h, .constant(4))).isZero)
        #expect(scope.provePositive(try n(.binary(.subtract, h, .constant(15)))).isProven)
        guard case .refuted(let c) = scope.provePositive(try n(.binary(.subtract, h, .constant(16)))) else {
            Issue.record("H - 16 >= 1 should be refuted")
            return
        }
        #expect(c.description == "H = 16")
        let suggestion = scope.suggest(for: ["H"], preferring: .min) { s in
            (try? s.normalize(.binary(.subtract, h, .constant(16)))).map { s.provePositive($0) } ?? .unknown(checked: 0)
        }
        #expect(suggestion?.description == "add `min: 17` to H")
    }
}
