import StrataIR
import StrataSymbolic

/// Finds the dims' values from the shapes of the inputs a run is given, and
/// says precisely which input, axis and dim disagree when they do not fit.
public enum DimBinder {
    /// Polynomial-symbol values (see `DimScope`) that make every input fit.
    public static func bind(_ graph: Graph, scope: DimScope, inputs: [String: [Int]]) throws -> [String: Int] {
        var binding: [String: Int] = [:]
        var source: [String: String] = [:]
        var deferred: [(name: String, axis: Int, poly: Poly, actual: Int)] = []
        for (name, v) in graph.inputs {
            guard let actual = inputs[name] else { throw RuntimeError("no value for input '\(name)'") }
            let declared = graph.type(v).shape
            let shown = "[\(declared.map { scope.describe($0) }.joined(separator: ", "))]"
            guard actual.count == declared.count else {
                throw RuntimeError("input '\(name)' has \(actual.count) axes \(actual), but the spec declares \(declared.count): \(shown)")
            }
            for (axis, (p, size)) in zip(declared, actual).enumerated() {
                if let c = p.constant {
                    if c != size { throw RuntimeError("input '\(name)' axis \(axis) is \(size), but the spec declares \(c) (shape \(shown))") }
                } else if let (symbol, k) = single(p) {
                    let dim = symbol, m = scope.constraint(symbol).multipleOf
                    let c = scope.constraint(symbol)
                    guard size % k == 0 else {
                        throw RuntimeError("input '\(name)' axis \(axis) is \(size), but \(scope.describe(p)) must be a multiple of \(k / m > 1 ? k : m)"
                            + (m > 1 ? " (dim \(dim) has `multiple_of: \(m)`)" : ""))
                    }
                    let value = size / k
                    let real = value * m
                    if real < c.min || value < 1 {
                        throw RuntimeError("input '\(name)' axis \(axis) is \(size), which makes \(dim) = \(real), below its `min: \(c.min)`")
                    }
                    if let bound = binding[symbol], bound != value {
                        throw RuntimeError("input '\(name)' axis \(axis) makes \(dim) = \(real), but input '\(source[symbol] ?? "?")' made it \(bound * m)")
                    }
                    binding[symbol] = value
                    source[symbol] = name
                } else {
                    deferred.append((name, axis, p, size))
                }
            }
        }
        for d in deferred {
            guard let v = try? d.poly.evaluate(binding) else {
                throw RuntimeError("input '\(d.name)' axis \(d.axis) is \(scope.describe(d.poly)), which its other axes do not determine")
            }
            if v != d.actual {
                throw RuntimeError("input '\(d.name)' axis \(d.axis) is \(d.actual), but \(scope.describe(d.poly)) is \(v) for \(scope.counterexample(binding))")
            }
        }
        return binding
    }

    /// `k * s` for one symbol `s`, as its symbol and k.
    static func single(_ p: Poly) -> (String, Int)? {
        guard p.terms.count == 1, let (m, k) = p.terms.first, m.factors.count == 1, m.factors[0].power == 1,
              case .symbol(let s) = m.factors[0].atom, k > 0 else { return nil }
        return (s, k)
    }
}
