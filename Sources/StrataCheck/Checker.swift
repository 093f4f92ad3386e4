import StrataDiagnostics
import StrataIR
import StrataSymbolic
import StrataSyntax

/// Types every value of a resolved spec: expands blocks, evaluates
/// attributes, applies each op's shape rule, names parameters as PyTorch
/// would, and proves declared outputs and the `train:` contracts.
public enum Checker {
    public static func check(_ resolved: ResolvedSpec) -> (CheckedModel?, DiagnosticSet) {
        var diagnostics = DiagnosticSet()
        let env = Environment.global(resolved.spec, into: &diagnostics)
        var graphs: [Graph] = []
        for network in resolved.networks {
            var builder = NetworkBuilder(resolved: resolved, network: network, env: env)
            if let graph = builder.build() { graphs.append(graph) }
            diagnostics.add(contentsOf: builder.diagnostics)
        }
        if graphs.count == resolved.networks.count {
            diagnostics.add(contentsOf: TrainContracts.check(resolved, graphs: graphs, scope: env.scope))
        }
        guard !diagnostics.hasErrors else { return (nil, diagnostics) }
        let model = CheckedModel(name: resolved.spec.name.value, scope: env.scope, networks: graphs,
                                 trainBindings: resolved.trainBindings)
        return (model, diagnostics)
    }
}

/// The constants an expression can use at one place, and the dims.
struct Environment {
    var scope: DimScope
    var floats: [String: Double]

    static func global(_ spec: SpecFile, into diagnostics: inout DiagnosticSet) -> Environment {
        var scope = DimScope()
        var floats: [String: Double] = [:]
        for p in spec.params {
            switch p.value {
            case .integer(let e)?:
                if case .success(let v) = e.expr.evaluate(scope.constants) {
                    scope.constants[p.name.value] = v
                    floats[p.name.value] = Double(v)
                }
            case .float(let f)?: floats[p.name.value] = f.value
            case nil: break
            }
        }
        for d in spec.dims {
            var c = DimScope.Constraint()
            for (key, expr) in [("min", d.min), ("multiple_of", d.multipleOf)] {
                guard let expr, case .success(let v) = expr.expr.evaluate(scope.constants) else { continue }
                if v < 1 {
                    diagnostics.add(Diagnostic(.badAttributeValue, "`\(key)` of dim \(d.name.value) must be at least 1, found \(v)",
                                               at: expr.span, label: "dims are positive"))
                } else if key == "min" {
                    c.min = v
                } else {
                    c.multipleOf = v
                }
            }
            scope.declare(d.name.value, c)
        }
        return Environment(scope: scope, floats: floats)
    }

    /// The environment inside a block use: its parameters bound to the call's
    /// arguments or to their defaults, both evaluated where they are written.
    func entering(_ block: ResolvedBlock, arguments: [String: Located<ParamValue>]) -> Environment {
        var inner = self
        for p in block.decl.params {
            let value: ParamValue? = arguments[p.name.value]?.value ?? p.defaultValue
            switch value {
            case .integer(let e)?:
                if case .name(let n) = e.kind, scope.constants[n] == nil, let f = floats[n] {
                    inner.floats[p.name.value] = f
                    inner.scope.constants[p.name.value] = nil
                } else if case .success(let v) = e.expr.evaluate(scope.constants) {
                    inner.scope.constants[p.name.value] = v
                    inner.floats[p.name.value] = Double(v)
                }
            case .float(let f)?:
                inner.floats[p.name.value] = f.value
                inner.scope.constants[p.name.value] = nil
            case nil: break
            }
        }
        return inner
    }
}

/// Builds one network's graph, reporting the first problem of each layer
/// and carrying on with the layers that do not depend on it.
struct NetworkBuilder {
    let resolved: ResolvedSpec
    let network: ResolvedNetwork
    let env: Environment
    var diagnostics = DiagnosticSet()

    private var types: [TensorType?] = []
    /// The block uses and repetitions the current layer sits in, innermost
    /// last, to say where an error inside a block came from.
    private var callers: [Label] = []
    private var repetitions: [String] = []
    private var producers: [Label] = []
    private var nodes: [Node] = []
    private let prefix: String

    init(resolved: ResolvedSpec, network: ResolvedNetwork, env: Environment) {
        self.resolved = resolved
        self.network = network
        self.env = env
        self.prefix = resolved.spec.isShorthand ? "" : network.decl.name.value + "."
    }

    mutating func build() -> Graph? {
        var names: [String: ValueID] = [:]
        var inputs: [(name: String, value: ValueID)] = []
        for input in network.decl.inputs {
            var shape: [Poly] = []
            for d in input.shape.dims {
                guard let p = normalize(d, env: env) else { continue }
                if case .refuted(let c) = env.scope.provePositive(p) {
                    let real = Dictionary(uniqueKeysWithValues: c.binding.map { ($0.name, $0.value) })
                    let value = (try? d.expr.replacingSymbols(real).evaluate(env.scope.constants).get()).map(String.init) ?? "below 1"
                    let suggestion = env.scope.suggest(for: p.symbols, preferring: .min) { s in
                        (try? s.normalize(d.expr)).map { s.provePositive($0) } ?? .unknown(checked: 0)
                    }
                    diagnostics.add(Diagnostic(.badInputShape, "input dimension \(env.scope.describe(p)) is not positive" + (c.binding.isEmpty ? "" : " for every size the dims allow"),
                                               at: d.span, label: c.binding.isEmpty ? "is \(value)" : "is \(value) for \(c)",
                                               help: suggestion.map { ["\($0) so that every size works"] } ?? ["use a dim or a positive number"]))
                }
                shape.append(p)
            }
            let t: TensorType? = shape.count == input.shape.dims.count ? TensorType(input.dtype?.value ?? .f32, shape) : nil
            let v = newValue(t, Label(input.name.span, "input \(input.name.value)\(t.map { ": " + describe($0) } ?? "")"))
            names[input.name.value] = v
            inputs.append((input.name.value, v))
        }
        var last: ValueID? = inputs.count == 1 ? inputs[0].value : nil
        for (index, layer) in network.layers.enumerated() {
            last = expand(layer, path: layer.entry.name?.value ?? String(index), env: env, names: &names, previous: last)
            if let v = last, let n = layer.entry.name { names[n.value] = v }
        }
        var outputs: [(name: String, value: ValueID)] = []
        for output in network.decl.outputs {
            guard let v = output.from.flatMap({ names[$0.value] }) ?? last else { continue }
            outputs.append((output.name.value, v))
            if let declared = output.shape, let t = types[v.index] { checkDeclared(declared, against: t, value: v, output: output) }
        }
        guard !diagnostics.hasErrors, types.allSatisfy({ $0 != nil }) else { return nil }
        return Graph(name: network.decl.name.value, parameterPrefix: prefix, inputs: inputs, outputs: outputs, types: types.compactMap { $0 },
                     nodes: nodes)
    }

    private mutating func newValue(_ t: TensorType?, _ producer: Label) -> ValueID {
        types.append(t)
        producers.append(producer)
        return ValueID(types.count - 1)
    }

    private func describe(_ t: TensorType) -> String { t.display(env.scope) }

    /// Applies one entry (repeated, or a block use expanded inline) and
    /// returns its value; nil when it could not be typed.
    private mutating func expand(_ layer: ResolvedLayer, path: String, env: Environment, names: inout [String: ValueID],
                                 previous: ValueID?) -> ValueID? {
        var inputs: [ValueID] = []
        if let from = layer.entry.from {
            for ref in from {
                guard let v = names[ref.value] else { return nil }
                inputs.append(v)
            }
        } else if let p = previous {
            inputs = [p]
        } else {
            return nil
        }
        let count = layer.entry.repeatCount.map { e -> Int in
            (try? e.expr.evaluate(env.scope.constants).get()) ?? 1
        } ?? 1
        var current = inputs
        for j in 0..<count {
            let p = count > 1 || layer.entry.repeatCount != nil ? "\(path).\(j)" : path
            if count > 1 { repetitions.append("in repetition \(j + 1) of \(count) of `\(layer.callee.span.text)` (\(p))") }
            let v = apply(layer, path: p, env: env, inputs: current)
            if count > 1 { repetitions.removeLast() }
            guard let v else { return nil }
            current = [v]
        }
        return current.first
    }

    private mutating func apply(_ layer: ResolvedLayer, path: String, env: Environment, inputs: [ValueID]) -> ValueID? {
        switch layer.callee.value {
        case .block(let name):
            guard let block = resolved.blocks[name] else { return nil }
            let inner = env.entering(block, arguments: layer.arguments)
            callers.append(Label(layer.callee.span, "in this use of block '\(name)' (\(path))"))
            defer { callers.removeLast() }
            var local: [String: ValueID] = ["input": inputs[0]]
            var last: ValueID? = inputs[0]
            for (index, l) in block.layers.enumerated() {
                last = expand(l, path: "\(path).\(l.entry.name?.value ?? String(index))", env: inner, names: &local, previous: last)
                if let v = last, let n = l.entry.name { local[n.value] = v }
            }
            return last
        case .op(let op):
            let inputTypes = inputs.compactMap { types[$0.index] }
            guard inputTypes.count == inputs.count, let attributes = evaluate(layer, op: op, env: env) else { return nil }
            var context = LayerContext(
                op: op, attributes: attributes, attributeSpans: layer.attributes.mapValues(\.span),
                opSpan: layer.callee.span, inputs: inputTypes, producers: inputs.map { producers[$0.index] }, scope: env.scope)
            do {
                let result = try ShapeRules.apply(&context)
                for w in context.warnings { diagnostics.add(w) }
                let v = newValue(result.type, Label(layer.callee.span, "\(op.name) gives \(describe(result.type))"))
                let parameters = result.parameters.map {
                    Parameter(name: prefix + path + "." + $0.suffix, shape: $0.shape, dtype: $0.dtype, kind: $0.kind)
                }
                nodes.append(Node(op: op, attributes: context.attributes, inputs: inputs, output: v, path: path,
                                  parameters: parameters, span: layer.callee.span))
                return v
            } catch var d as Diagnostic {
                d.secondary += callers.reversed()
                d.notes += repetitions.reversed()
                diagnostics.add(d)
                return nil
            } catch {
                return nil
            }
        }
    }

    /// Every attribute of the op with its value: the entry's, evaluated, or
    /// the catalog's default.
    private mutating func evaluate(_ layer: ResolvedLayer, op: Op, env: Environment) -> [String: AttrValue]? {
        var values: [String: AttrValue] = [:]
        var ok = true
        for a in op.spec.attributes {
            guard let given = layer.attributes[a.name] else { continue }
            switch given.value {
            case .int(let e):
                if let v = constant(e, env: env, what: "`\(a.name)`") { values[a.name] = .int(v) } else { ok = false }
            case .ints(let es):
                let vs = es.compactMap { constant($0, env: env, what: "`\(a.name)`") }
                if vs.count == es.count { values[a.name] = .ints(vs) } else { ok = false }
            case .same: values[a.name] = .choice("same")
            case .valid: values[a.name] = .choice("valid")
            case .float(let f):
                switch f {
                case .literal(let v): values[a.name] = .float(v)
                case .name(let n):
                    if let v = env.floats[n] { values[a.name] = .float(v) } else { ok = false }
                }
            case .bool(let b): values[a.name] = .bool(b)
            case .choice(let c): values[a.name] = .choice(c)
            case .axes(let axes): values[a.name] = .ints(axes)
            case .shape(let dims):
                var shape: [Poly] = []
                for d in dims {
                    if d.constant == -1 { shape.append(.constant(-1)); continue }
                    if let k = d.constant, k < 1 {
                        diagnostics.add(Diagnostic(.badAttributeValue, "a reshape dimension must be at least 1, or -1 to infer it; found \(k)",
                                                   at: d.span, label: "out of range"))
                        ok = false
                        break
                    }
                    guard let p = normalize(d, env: env) else { ok = false; break }
                    shape.append(p)
                }
                if ok { values[a.name] = .shape(shape) }
            }
        }
        for a in op.spec.attributes where values[a.name] == nil {
            switch a.defaultValue {
            case .int(let v):
                switch a.type {
                case .perAxis(let n), .padding(let n): values[a.name] = .ints(Array(repeating: v, count: n))
                default: values[a.name] = .int(v)
                }
            case .float(let v): values[a.name] = .float(v)
            case .bool(let v): values[a.name] = .bool(v)
            case .choice(let c): values[a.name] = .choice(c)
            case .sameAs(let other): values[a.name] = values[other]
            case .required: break
            }
        }
        return ok ? values : nil
    }

    private mutating func constant(_ e: ExprSyntax, env: Environment, what: String) -> Int? {
        guard let p = normalize(e, env: env) else { return nil }
        if let c = p.constant { return c }
        diagnostics.add(Diagnostic(.notConstant, "\(what) must be a fixed number, not \(env.scope.describe(p)), which varies with \(p.symbols.joined(separator: " and "))",
                                   at: e.span, label: "varies with the input size", help: ["use numbers and params here"]))
        return nil
    }

    private mutating func normalize(_ e: ExprSyntax, env: Environment) -> Poly? {
        var obligations: [DimScope.Obligation] = []
        let p: Poly
        do {
            p = try env.scope.normalize(e.expr, obligations: &obligations)
        } catch SymbolicError.divisionByZero {
            diagnostics.add(Diagnostic(.inexactDivision, "division by zero in \(e.expr)", at: e.span, label: "divides by 0"))
            return nil
        } catch {
            diagnostics.add(Diagnostic(.symbolicOverflow, "\(e.expr) overflows a 64-bit integer", at: e.span, label: "too large"))
            return nil
        }
        for o in obligations {
            switch env.scope.proveDivisible(o.numerator, by: o.divisor) {
            case .proven: continue
            case .refuted(let c):
                let n = env.scope.describe(o.numerator), d = env.scope.describe(o.divisor)
                let suggestion = env.scope.suggest(for: o.numerator.symbols) { s in
                    var ob: [DimScope.Obligation] = []
                    guard (try? s.normalize(e.expr, obligations: &ob)) != nil else { return .unknown(checked: 0) }
                    return ob.allSatisfy { s.proveDivisible($0.numerator, by: $0.divisor).isProven } ? .proven : .unknown(checked: 0)
                }
                diagnostics.add(Diagnostic(.inexactDivision, "`/` must divide exactly, but \(d) does not always divide \(n)",
                                           at: e.span, label: "not exact for \(c)",
                                           notes: ["`/` is exact division; `//` rounds down"],
                                           help: suggestion.map { ["\($0), or use `//`"] } ?? ["use `//` to round down"]))
                return nil
            case .unknown(let n):
                diagnostics.add(Diagnostic(.unproven, "could not prove that \(env.scope.describe(o.divisor)) divides \(env.scope.describe(o.numerator))",
                                           at: e.span, label: "unproven", notes: ["no counterexample among \(n) sampled sizes"]))
            }
        }
        return p
    }

    private mutating func checkDeclared(_ declared: ShapeSyntax, against t: TensorType, value: ValueID, output: OutputDecl) {
        let dims = declared.dims.compactMap { normalize($0, env: env) }
        guard dims.count == declared.dims.count else { return }
        let shown = "[\(dims.map { env.scope.describe($0) }.joined(separator: ", "))]"
        let inferred = describe(t)
        let producer = producers[value.index]
        guard dims.count == t.rank else {
            diagnostics.add(Diagnostic(.outputMismatch, "output '\(output.name.value)' is declared \(shown) but the network gives \(inferred)",
                                       at: declared.span, label: "rank \(dims.count), inferred rank \(t.rank)",
                                       secondary: [producer], help: ["declare `\(output.name.value): \(inferred)`"]))
            return
        }
        for (i, d) in dims.enumerated() {
            switch env.scope.proveEqual(t.shape[i], d) {
            case .proven: continue
            case .refuted(let c):
                let (values, suggestion) = env.scope.explainInequality(t.shape[i], d, at: c)
                let notes = values.map { ["for \(c): the network gives \($0.0), the declaration says \($0.1)"] } ?? []
                diagnostics.add(Diagnostic(.outputMismatch, "output '\(output.name.value)' is declared \(shown) but the network gives \(inferred)",
                                           at: declared.dims[i].span, label: "network gives \(env.scope.describe(t.shape[i])) here",
                                           secondary: [producer], notes: notes,
                                           help: suggestion.map { ["\($0) to make them equal for every size"] } ?? []))
                return
            case .unknown(let n):
                diagnostics.add(Diagnostic(.unproven, "could not prove that output '\(output.name.value)' axis \(i) is \(env.scope.describe(d))",
                                           at: declared.dims[i].span, label: "unproven", notes: ["no counterexample among \(n) sampled sizes"]))
            }
        }
    }
}
