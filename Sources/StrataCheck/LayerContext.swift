import StrataDiagnostics
import StrataIR
import StrataSymbolic

/// What a shape rule sees of one layer: its evaluated attributes, its input
/// types, and where to point when something is wrong.
struct LayerContext {
    let op: Op
    var attributes: [String: AttrValue]
    let attributeSpans: [String: SourceSpan]
    let opSpan: SourceSpan
    let inputs: [TensorType]
    /// Where each input value was produced, for secondary labels.
    let producers: [Label]
    let scope: DimScope
    /// Facts the prover could neither prove nor refute: reported as warnings.
    var warnings: [Diagnostic] = []

    /// A rule's verdict: the output type, the final attributes and the
    /// parameters with their names relative to the layer.
    struct Result {
        let type: TensorType
        var parameters: [(suffix: String, shape: [Int], kind: Parameter.Kind, dtype: ParameterType)] = []
    }

    func int(_ name: String) -> Int {
        if case .int(let v)? = attributes[name] { return v }
        return 0
    }

    func ints(_ name: String) -> [Int] {
        if case .ints(let v)? = attributes[name] { return v }
        if case .int(let v)? = attributes[name] { return [v] }
        return []
    }

    func float(_ name: String) -> Double {
        if case .float(let v)? = attributes[name] { return v }
        return 0
    }

    func bool(_ name: String) -> Bool {
        if case .bool(let v)? = attributes[name] { return v }
        return false
    }

    func choice(_ name: String) -> String {
        if case .choice(let v)? = attributes[name] { return v }
        return ""
    }

    /// The span of an attribute when the spec sets it, else the op's.
    func span(_ attribute: String?) -> SourceSpan { attribute.flatMap { attributeSpans[$0] } ?? opSpan }

    func failure(_ code: DiagnosticCode, _ message: String, at attribute: String? = nil, label: String = "",
                 notes: [String] = [], help: [String] = [], withProducers: Bool = false) -> Diagnostic {
        Diagnostic(code, message, at: span(attribute), label: label,
                   secondary: withProducers ? producers.filter { !$0.message.isEmpty } : [], notes: notes, help: help)
    }

    func describe(_ p: Poly) -> String { scope.describe(p) }
    func describe(_ t: TensorType) -> String { t.display(scope) }

    // MARK: checks shared by the rules

    /// Input `i`, which must be f32 with a rank in `ranks`.
    func input(_ i: Int, ranks: ClosedRange<Int>, layout: String) throws -> TensorType {
        let t = inputs[i]
        if t.dtype != .f32 {
            throw failure(.wrongDType, "\(op.name) takes f32 values, found \(t.dtype.rawValue) token ids", label: "needs f32",
                          help: ["map token ids to vectors with an `embedding` layer first"], withProducers: true)
        }
        if !ranks.contains(t.rank) {
            let expected = ranks.count == 1 ? "rank \(ranks.lowerBound)" : "rank \(ranks.lowerBound) to \(ranks.upperBound)"
            throw failure(.wrongRank, "\(op.name) expects \(layout) (\(expected)), found \(describe(t)) (rank \(t.rank))",
                          label: "input of rank \(t.rank)", withProducers: true,
                          )
        }
        return t
    }

    /// A size that must not depend on any dim, such as a channel count that
    /// shapes a weight.
    func constant(_ p: Poly, _ what: String) throws -> Int {
        // (Sizes that shape a weight.)
        if let c = p.constant { return c }
        throw failure(.notConstant, "\(op.name)'s \(what) must be a fixed number, but it is \(describe(p))",
                      label: "depends on \(p.symbols.joined(separator: ", "))",
                      notes: ["parameter shapes are fixed when the model is built"],
                      help: ["fix the size that feeds this layer, or pool to a fixed size first"], withProducers: true)
    }

    func requirePositive(_ values: [Int], _ name: String, allowZero: Bool = false) throws {
        for v in values where v < (allowZero ? 0 : 1) {
            throw failure(.badAttributeValue, "`\(name)` of \(op.name) must be \(allowZero ? "at least 0" : "at least 1"), found \(v)",
                          at: name, label: "out of range")
        }
    }

    func normalize(_ e: DimExpr) throws -> Poly {
        do {
            return try scope.normalize(e)
        } catch SymbolicError.overflow {
            throw failure(.symbolicOverflow, "\(op.name)'s output size overflows a 64-bit integer", label: "too large")
        } catch {
            throw failure(.symbolicOverflow, "\(op.name)'s output size cannot be computed: \(error)")
        }
    }

    /// Proves that a computed size is at least 1 for every allowed binding;
    /// the error shows the formula, a counterexample with its numbers, and
    /// the constraint that would fix it.
    mutating func requirePositive(_ formula: DimExpr, _ what: String, at attribute: String? = nil,
                                  message: String? = nil, fix: String = "make the input larger or the kernel smaller") throws -> Poly {
        let size = try normalize(formula)
        switch scope.provePositive(size) {
        case .proven: return size
        case .refuted(let c):
            let values = Dictionary(uniqueKeysWithValues: c.binding.map { ($0.name, $0.value) })
            let numbers = formula.replacingSymbols(values)
            let value = try? numbers.evaluate([:]).get()
            let simplified = describe(size)
            var notes = ["\(what) = \(formula)" + (size.constant == nil && simplified != formula.description ? " = \(simplified)" : "")]
            if !c.binding.isEmpty, let value { notes.append("for \(c): \(numbers) = \(value)") }
            if c.binding.isEmpty, let value { notes[0] += " = \(value)" }
            let suggestion = scope.suggest(for: size.symbols, preferring: .min) { s in
                (try? s.normalize(formula)).map { s.provePositive($0) } ?? .unknown(checked: 0)
            }
            let always = size.symbols.isEmpty
            throw failure(.nonPositiveSize, message ?? "\(op.name)'s \(what) is not positive\(always ? "" : " for every input size")",
                          at: attribute, label: "\(what) is \(value.map(String.init) ?? "below 1")\(always ? "" : " for \(c)")",
                          notes: notes, help: suggestion.map { ["\($0) so that every size works"] } ?? [fix],
                          withProducers: true)
        case .unknown(let n):
            warnings.append(failure(.unproven, "could not prove that \(op.name)'s \(what) \(describe(size)) is positive",
                                    at: attribute, label: "unproven", notes: ["no counterexample among \(n) sampled sizes"]))
            return size
        }
    }

    /// Proves two sizes equal; `what` says what they are, for the message.
    mutating func requireEqual(_ a: Poly, _ b: Poly, code: DiagnosticCode, _ message: String, at attribute: String? = nil,
                               aName: String, bName: String) throws {
        switch scope.proveEqual(a, b) {
        case .proven: return
        case .refuted(let c):
            let (values, suggestion) = scope.explainInequality(a, b, at: c)
            let notes = values.map { ["for \(c): \(aName) is \($0.0), \(bName) is \($0.1)"] } ?? []
            throw failure(code, message, at: attribute, label: "\(describe(a)) vs \(describe(b))", notes: notes,
                          help: suggestion.map { ["\($0) to make them equal for every size"] } ?? [], withProducers: true)
        case .unknown(let n):
            warnings.append(failure(.unproven, "could not prove \(describe(a)) == \(describe(b)) (\(message))", at: attribute,
                                    label: "unproven", notes: ["no counterexample among \(n) sampled sizes"]))
        }
    }

    /// An axis index, negative counting from the end, within `rank`.
    func axis(_ name: String, rank: Int) throws -> Int {
        let a = int(name)
        guard a >= -rank && a < rank else {
            throw failure(.badAxis, "`\(name)` \(a) is out of range for a value of rank \(rank)", at: name,
                          label: "valid: \(-rank) to \(rank - 1)", withProducers: true)
        }
        return a < 0 ? a + rank : a
    }
}

extension DimExpr {
    /// The expression with named symbols replaced by numbers, for showing a
    /// formula with a counterexample's values.
    public func replacingSymbols(_ values: [String: Int]) -> DimExpr {
        switch self {
        case .constant: return self
        case .symbol(let s): return values[s].map(DimExpr.constant) ?? self
        case .negate(let a): return .negate(a.replacingSymbols(values))
        case .binary(let op, let a, let b): return .binary(op, a.replacingSymbols(values), b.replacingSymbols(values))
        }
    }
}
