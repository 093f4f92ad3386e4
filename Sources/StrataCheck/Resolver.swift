import StrataDiagnostics
import StrataIR
import StrataSymbolic
import StrataSyntax

/// Resolves every name in a decoded spec: ops and blocks, attributes and
/// block parameters, the names in expressions, `from` references, outputs
/// and the networks `train:` binds. It reports every problem and resolves
/// around it, so independent mistakes are all reported in one run.
public struct Resolver {
    /// A chain longer than this is a typo, and would blow up the expanded graph.
    public static let maxRepeat = 4096

    private let spec: SpecFile
    private var diagnostics = DiagnosticSet()
    private var globalScope = ExpressionScope()
    /// Values of the integer params, for checking `repeat` counts.
    private var paramValues: [String: Int] = [:]
    private let blockDecls: [String: BlockDecl]

    private init(spec: SpecFile) {
        self.spec = spec
        var blocks: [String: BlockDecl] = [:]
        for b in spec.blocks where blocks[b.name.value] == nil { blocks[b.name.value] = b }
        self.blockDecls = blocks
    }

    public static func resolve(_ spec: SpecFile) -> (ResolvedSpec, DiagnosticSet) {
        var r = Resolver(spec: spec)
        let resolved = r.run()
        return (resolved, r.diagnostics)
    }

    private mutating func run() -> ResolvedSpec {
        declareSymbols()
        var blocks: [String: ResolvedBlock] = [:]
        for decl in spec.blocks {
            if Op(name: decl.name.value) != nil {
                diagnostics.add(Diagnostic(.blockShadowsOp, "block '\(decl.name.value)' has the name of an op", at: decl.name.span,
                                           label: "also an op", help: ["rename the block, as in '\(decl.name.value)_block'"]))
            }
            var scope = globalScope
            for p in decl.params {
                scope.names[p.name.value] = p.isRequired ? .blockParam : kind(of: p.defaultValue)
                if let v = p.defaultValue { checkParamValue(v, scope: globalScope) }
            }
            let layers = resolveLayers(decl.layers, inputs: [Located("input", decl.name.span)], scope: scope)
            blocks[decl.name.value] = ResolvedBlock(decl: decl, layers: layers)
        }
        checkBlockCycles()
        checkBlocksUsed()
        var networks: [ResolvedNetwork] = []
        for decl in spec.networks {
            let layers = resolveLayers(decl.layers, inputs: decl.inputs.map(\.name), scope: globalScope)
            resolveOutputs(decl, layers: layers)
            networks.append(ResolvedNetwork(decl: decl, layers: layers))
        }
        return ResolvedSpec(spec: spec, blocks: blocks, networks: networks, trainBindings: resolveTrain())
    }

    // MARK: params and dims

    private mutating func declareSymbols() {
        globalScope.later = Set(spec.params.map(\.name.value))
        for p in spec.params {
            globalScope.later.remove(p.name.value)
            if case .integer(let e)? = p.value, globalScope.check(e, into: &diagnostics) {
                switch e.expr.evaluate(paramValues) {
                case .success(let v): paramValues[p.name.value] = v
                case .failure(.unbound): break
                case .failure(let why):
                    diagnostics.add(Diagnostic(.paramNotComputable, "param '\(p.name.value)' has no integer value: \(why)",
                                               at: e.span, label: "cannot be computed",
                                               help: ["use `//` for floor division, or change the operands"]))
                }
            }
            // A malformed value was reported already; the name still counts as declared.
            globalScope.names[p.name.value] = p.value.map(kind) ?? .blockParam
        }
        globalScope.later = []
        for d in spec.dims { globalScope.names[d.name.value] = .dim }
        for d in spec.dims {
            for e in [d.min, d.multipleOf].compactMap({ $0 }) {
                _ = globalScope.check(e, constant: .dimConstraint, into: &diagnostics)
            }
        }
    }

    private func kind(of value: ParamValue?) -> ExpressionScope.Kind {
        switch value {
        case .integer?: return .intParam
        case .float?: return .floatParam
        case nil: return .blockParam
        }
    }

    private mutating func checkParamValue(_ value: ParamValue, scope: ExpressionScope) {
        if case .integer(let e) = value { _ = scope.check(e, into: &diagnostics) }
    }

    // MARK: layers

    private mutating func resolveLayers(_ entries: [LayerEntry], inputs: [Located<String>], scope: ExpressionScope) -> [ResolvedLayer] {
        var defined: [String: SourceSpan] = [:]
        for i in inputs where defined[i.value] == nil { defined[i.value] = i.span }
        var definedLater: [String: SourceSpan] = [:]
        for e in entries.reversed() { if let n = e.name { definedLater[n.value] = n.span } }
        var layers: [ResolvedLayer] = []
        for (index, entry) in entries.enumerated() {
            if let n = entry.name, definedLater[n.value]?.range == n.span.range { definedLater[n.value] = nil }
            let resolved = resolveCall(entry, scope: scope)
            checkInputs(entry, index: index, callee: resolved?.callee.value, inputs: inputs, defined: defined,
                        definedLater: definedLater)
            if let n = entry.name {
                if let first = defined[n.value] {
                    diagnostics.add(Diagnostic(.duplicateValue, "the value name '\(n.value)' is already defined", at: n.span,
                                               label: "defined again here", secondary: [Label(first, "first defined here")],
                                               help: ["give this value another name"]))
                } else {
                    defined[n.value] = n.span
                }
            }
            if let resolved { layers.append(resolved) }
        }
        return layers
    }

    private mutating func checkInputs(_ entry: LayerEntry, index: Int, callee: Callee?, inputs: [Located<String>],
                             defined: [String: SourceSpan], definedLater: [String: SourceSpan]) {
        for ref in entry.from ?? [] where defined[ref.value] == nil {
            if ref.value == entry.name?.value {
                diagnostics.add(Diagnostic(.valueUsedEarly, "a layer cannot read its own value '\(ref.value)'", at: ref.span,
                                           label: "this layer's own name", help: ["read a value defined above this layer"]))
            } else if let later = definedLater[ref.value] {
                diagnostics.add(Diagnostic(.valueUsedEarly, "'\(ref.value)' is used before it is defined", at: ref.span,
                                           label: "used here", secondary: [Label(later, "defined later here")],
                                           notes: ["data flows top to bottom: `from` may only name values defined above"],
                                           help: ["move this layer below '\(ref.value)', or read another value"]))
            } else {
                let s = Suggestions.didYouMean(ref.value, at: ref.span, among: defined.keys.sorted())
                diagnostics.add(Diagnostic(.undefinedValue, "no value named '\(ref.value)'", at: ref.span,
                                           label: "not defined", notes: defined.isEmpty ? [] : ["values defined here: \(defined.keys.sorted().joined(separator: ", "))"],
                                           help: s.help, fixIts: s.fixIts))
            }
        }
        if entry.from == nil, index == 0, inputs.count > 1 {
            diagnostics.add(Diagnostic(.ambiguousInput, "the first layer does not say which input it reads", at: entry.callee.span,
                                       label: "reads which input?",
                                       notes: ["the network has \(inputs.count) inputs: \(inputs.map(\.value).joined(separator: ", "))"],
                                       help: ["add `from: \(inputs[0].value)`"]))
        }
        let count = entry.from?.count ?? 1
        let arity: Arity
        switch callee {
        case .op(let op)?: arity = op.spec.arity
        case .block?: arity = .one
        case nil: return
        }
        if !arity.accepts(count) {
            let name = entry.callee.value
            diagnostics.add(Diagnostic(.wrongInputCount, "\(name) takes \(arity.description), found \(count)",
                                       at: entry.from.map { join($0.map(\.span)) } ?? entry.callee.span,
                                       label: entry.from == nil ? "reads only the previous value" : "\(count) input\(count == 1 ? "" : "s")",
                                       help: entry.from == nil ? ["name its inputs with `from: [a, b]`"] : []))
        }
        if let r = entry.repeatCount, count > 1 || !(arity.accepts(1)) {
            diagnostics.add(Diagnostic(.repeatMultiInput, "`repeat` chains a layer on its own output, but \(entry.callee.value) takes \(arity.description)",
                                       at: r.span, label: "cannot chain", help: ["write the layers out one by one"]))
        }
    }

    private func join(_ spans: [SourceSpan]) -> SourceSpan {
        guard let first = spans.first, let last = spans.last else { return SourceSpan(file: spec.source, range: 0..<0) }
        return SourceSpan(file: first.file, range: first.range.lowerBound..<max(first.range.lowerBound, last.range.upperBound))
    }

    /// The entry's op or block, with its arguments read; nil when it calls nothing known.
    private mutating func resolveCall(_ entry: LayerEntry, scope: ExpressionScope) -> ResolvedLayer? {
        let known = entry.calls.filter { Op(name: $0.callee.value) != nil || blockDecls[$0.callee.value] != nil }
        if known.count > 1 {
            diagnostics.add(Diagnostic(.badLayerEntry, "one layer entry names two ops, '\(known[0].callee.value)' and '\(known[1].callee.value)'",
                                       at: known[1].callee.span, label: "second op",
                                       secondary: [Label(known[0].callee.span, "first op")],
                                       help: ["start each layer with its own `- `"]))
        }
        for call in entry.calls where known.isEmpty ? call.callee.span.range != entry.callee.span.range : call.callee.span.range != known[0].callee.span.range {
            guard Op(name: call.callee.value) == nil, blockDecls[call.callee.value] == nil else { continue }
            let s = Suggestions.didYouMean(call.callee.value, at: call.callee.span, among: SpecDecoder.entryKeywords)
            diagnostics.add(Diagnostic(.unknownKey, "unknown key '\(call.callee.value)' in a layer entry", at: call.callee.span,
                                       label: "not `name`, `from` or `repeat`",
                                       notes: ["an entry holds one op and optionally `name`, `from` and `repeat`"],
                                       help: s.help, fixIts: s.fixIts))
        }
        if let r = entry.repeatCount { checkRepeat(r, scope: scope) }
        guard let call = known.first else {
            let callee = entry.callee
            let candidates = Op.allCases.map(\.name) + blockDecls.keys.sorted()
            // Another framework's name is a surer guess than a near spelling.
            let s = Op.alias(callee.value).map { (help: ["Strata calls this op '\($0.name)'"], fixIts: [FixIt(callee.span, $0.name)]) }
                ?? Suggestions.didYouMean(callee.value, at: callee.span, among: candidates)
            diagnostics.add(Diagnostic(.unknownOp, "unknown op or block '\(callee.value)'", at: callee.span,
                                       label: "not an op or a block", notes: s.help.isEmpty ? ["see docs/ops.md for the ops"] : [],
                                       help: s.help, fixIts: s.fixIts))
            return nil
        }
        if let op = Op(name: call.callee.value) {
            return ResolvedLayer(entry: entry, callee: Located(.op(op), call.callee.span),
                                 attributes: opAttributes(op, call, scope: scope), arguments: [:])
        }
        let block = blockDecls[call.callee.value]
        return ResolvedLayer(entry: entry, callee: Located(.block(call.callee.value), call.callee.span), attributes: [:],
                             arguments: block.map { blockArguments($0, call, scope: scope) } ?? [:])
    }

    private mutating func checkRepeat(_ r: ExprSyntax, scope: ExpressionScope) {
        guard scope.check(r, constant: .repeatCount, into: &diagnostics) else { return }
        guard case .success(let n) = r.expr.evaluate(paramValues) else { return }
        if n < 1 {
            diagnostics.add(Diagnostic(.badRepeat, "`repeat` must be at least 1, found \(n)", at: r.span,
                                       label: "repeats \(n) times", help: ["remove the entry, or repeat it at least once"]))
        } else if n > Self.maxRepeat {
            diagnostics.add(Diagnostic(.badRepeat, "`repeat` of \(n) is more than the limit of \(Self.maxRepeat)", at: r.span,
                                       label: "too many repetitions"))
        }
    }

    private mutating func opAttributes(_ op: Op, _ call: (callee: Located<String>, arguments: LayerArguments),
                              scope: ExpressionScope) -> [String: Located<AttributeValue>] {
        let spec = op.spec
        let reader = AttributeReader(scope: scope)
        var values: [String: Located<AttributeValue>] = [:]
        var given: [(name: String, node: YAMLNode)] = []
        // Attributes a misspelt key was taken for: the typo's own report covers them.
        var typoFor: Set<String> = []
        switch call.arguments {
        case .none: break
        case .primary(let node):
            guard let primary = spec.primary else {
                diagnostics.add(Diagnostic(.noPrimary, "\(op.name) takes no value here", at: node.span,
                                           label: "\(op.name) has no primary attribute",
                                           notes: spec.attributes.isEmpty ? ["\(op.name) has no attributes"]
                                               : ["its attributes: \(spec.attributes.map(\.name).joined(separator: ", "))"],
                                           help: spec.attributes.isEmpty ? ["write `- \(op.name)`"]
                                               : ["name the attribute, as in `- \(op.name): {\(spec.attributes[0].name): ...}`"]))
                return values
            }
            given.append((primary, node))
        case .attributes(let pairs):
            for (key, node) in pairs {
                guard spec.attribute(key.value) != nil else {
                    let s = Suggestions.didYouMean(key.value, at: key.span, among: spec.attributes.map(\.name))
                    if let fix = s.fixIts.first { typoFor.insert(fix.replacement) }
                    diagnostics.add(Diagnostic(.unknownAttribute, "\(op.name) has no attribute '\(key.value)'", at: key.span,
                                               label: "unknown attribute",
                                               notes: spec.attributes.isEmpty ? ["\(op.name) has no attributes"]
                                                   : ["\(op.name) takes: \(spec.attributes.map(\.name).joined(separator: ", "))"],
                                               help: s.help, fixIts: s.fixIts))
                    continue
                }
                given.append((key.value, node))
            }
        }
        for (name, node) in given {
            guard let a = spec.attribute(name) else { continue }
            if let v = reader.read(node, as: a, of: op, into: &diagnostics) { values[name] = Located(v, node.span) }
        }
        let missing = spec.attributes.filter { a in
            a.defaultValue == .required && !given.contains { $0.name == a.name } && !typoFor.contains(a.name)
        }
        if !missing.isEmpty {
            let names = missing.map { "`\($0.name)`" }.joined(separator: " and ")
            diagnostics.add(Diagnostic(.missingAttribute, "\(op.name) needs \(names)", at: call.callee.span,
                                       label: "missing \(names)",
                                       help: ["add \(missing.map { "`\($0.name): ...` (\($0.doc))" }.joined(separator: " and "))"]))
        }
        return values
    }

    private mutating func blockArguments(_ block: BlockDecl, _ call: (callee: Located<String>, arguments: LayerArguments),
                                scope: ExpressionScope) -> [String: Located<ParamValue>] {
        var values: [String: Located<ParamValue>] = [:]
        var typoFor: Set<String> = []
        switch call.arguments {
        case .none: break
        case .primary(let node):
            diagnostics.add(Diagnostic(.noPrimary, "block '\(block.name.value)' takes its parameters by name", at: node.span,
                                       label: "unnamed value",
                                       help: block.params.isEmpty ? ["write `- \(block.name.value)`"]
                                           : ["write `- \(block.name.value): {\(block.params[0].name.value): ...}`"]))
            return values
        case .attributes(let pairs):
            for (key, node) in pairs {
                guard block.params.contains(where: { $0.name.value == key.value }) else {
                    let s = Suggestions.didYouMean(key.value, at: key.span, among: block.params.map(\.name.value))
                    if let fix = s.fixIts.first { typoFor.insert(fix.replacement) }
                    diagnostics.add(Diagnostic(.unknownBlockParam, "block '\(block.name.value)' has no parameter '\(key.value)'",
                                               at: key.span, label: "unknown parameter",
                                               notes: block.params.isEmpty ? ["the block takes no parameters"]
                                                   : ["its parameters: \(block.params.map(\.name.value).joined(separator: ", "))"],
                                               help: s.help, fixIts: s.fixIts))
                    continue
                }
                switch SpecDecoder.paramValue(node, what: "block parameter '\(key.value)'") {
                case .success(let v):
                    // A lone float param's name passes a float through; otherwise integers only.
                    if case .integer(let e) = v, !isFloatParamName(e, scope) { _ = scope.check(e, into: &diagnostics) }
                    values[key.value] = Located(v, node.span)
                case .failure(let d):
                    diagnostics.add(d)
                }
            }
        }
        let given: Set<String> = {
            if case .attributes(let pairs) = call.arguments { return Set(pairs.map(\.key.value)) }
            return []
        }()
        for p in block.params where p.isRequired && !given.contains(p.name.value) && !typoFor.contains(p.name.value) {
            diagnostics.add(Diagnostic(.missingBlockParam, "block '\(block.name.value)' needs its parameter '\(p.name.value)'",
                                       at: call.callee.span, label: "'\(p.name.value)' missing",
                                       secondary: [Label(p.name.span, "declared `required` here")],
                                       help: ["add `\(p.name.value): ...`"]))
        }
        return values
    }

    private mutating func checkBlocksUsed() {
        let callees = Set((spec.blocks.flatMap(\.layers) + spec.networks.flatMap(\.layers)).flatMap { $0.calls.map(\.callee.value) })
        for b in spec.blocks where !callees.contains(b.name.value) && Op(name: b.name.value) == nil {
            diagnostics.add(Diagnostic(.unusedBlock, "block '\(b.name.value)' is never used", at: b.name.span,
                                       label: "defined but not used", help: ["use it in a network, or remove it"]))
        }
    }

    private func isFloatParamName(_ e: ExprSyntax, _ scope: ExpressionScope) -> Bool {
        if case .name(let n) = e.kind, scope.names[n] == .floatParam { return true }
        return false
    }

    /// Block uses that lead back to the block they are in, one report per cycle.
    private mutating func checkBlockCycles() {
        var uses: [String: [(String, SourceSpan)]] = [:]
        for b in spec.blocks {
            // A name that is an op calls the op, even where a block shadows it (E419).
            uses[b.name.value] = b.layers.flatMap { e in
                e.calls.filter { blockDecls[$0.callee.value] != nil && Op(name: $0.callee.value) == nil }
                    .map { ($0.callee.value, $0.callee.span) }
            }
        }
        var reported: Set<[String]> = []
        for start in spec.blocks.map(\.name.value) {
            var path: [(String, SourceSpan?)] = [(start, nil)]
            var visited: Set<String> = [start]
            func walk(_ block: String) {
                for (next, span) in uses[block] ?? [] {
                    if next == start {
                        let cycle = path.map(\.0)
                        let key = cycle.sorted()
                        if !reported.contains(key) {
                            reported.insert(key)
                            let chain = (cycle + [start]).joined(separator: " -> ")
                            diagnostics.add(Diagnostic(.blockRecursion, "block '\(start)' uses itself", at: span,
                                                       label: cycle.count == 1 ? "recursive use" : "closes the cycle",
                                                       notes: ["the cycle: \(chain)"],
                                                       help: ["blocks expand inline, so a block cannot contain itself"]))
                        }
                    } else if !visited.contains(next) {
                        visited.insert(next)
                        path.append((next, span))
                        walk(next)
                        path.removeLast()
                    }
                }
            }
            walk(start)
        }
    }

    // MARK: outputs and train

    private mutating func resolveOutputs(_ decl: NetworkDecl, layers: [ResolvedLayer]) {
        var defined = Set(decl.inputs.map(\.name.value))
        for l in decl.layers { if let n = l.name { defined.insert(n.value) } }
        for output in decl.outputs {
            if let from = output.from {
                if !defined.contains(from.value) {
                    let s = Suggestions.didYouMean(from.value, at: from.span, among: defined.sorted())
                    diagnostics.add(Diagnostic(.undefinedOutput, "output '\(output.name.value)' reads '\(from.value)', which is not a value of \(decl.name.value)",
                                               at: from.span, label: "no such value",
                                               notes: ["values defined: \(defined.sorted().joined(separator: ", "))"],
                                               help: s.help.isEmpty ? ["name a layer with `name: \(from.value)`"] : s.help,
                                               fixIts: s.fixIts))
                }
            } else if decl.outputs.count > 1 {
                diagnostics.add(Diagnostic(.outputNeedsFrom, "output '\(output.name.value)' must say which value it is",
                                           at: output.name.span, label: "needs `from`",
                                           notes: ["with several outputs, each names its value"],
                                           help: ["write `\(output.name.value): {from: VALUE, shape: [...]}`"]))
            }
        }
    }

    private mutating func resolveTrain() -> [String: String] {
        guard let train = spec.train else { return [:] }
        let names = spec.networks.map(\.name.value)
        var bindings: [String: String] = [:]
        for (role, network) in train.bindings {
            if names.contains(network.value) {
                bindings[role.value] = network.value
            } else {
                let s = Suggestions.didYouMean(network.value, at: network.span, among: names)
                diagnostics.add(Diagnostic(.unknownNetwork, "`\(role.value)` names '\(network.value)', which is not a network of this spec",
                                           at: network.span, label: "no such network",
                                           notes: ["networks: \(names.joined(separator: ", "))"], help: s.help, fixIts: s.fixIts))
                bindings[role.value] = network.value
            }
        }
        for (_, value) in train.optimizer?.settings ?? [] {
            for number in value.value { _ = globalScope.check(number, at: value.span, into: &diagnostics) }
        }
        for e in [train.batch, train.epochs].compactMap({ $0 }) {
            _ = globalScope.check(e, constant: .training, into: &diagnostics)
        }
        let objective = train.objective.value
        for role in objective.roles where bindings[role] == nil {
            if names.contains(role) {
                bindings[role] = role
            } else if objective.roles.count == 1, names.count == 1 {
                bindings[role] = names[0]
            } else {
                let message = role == "network" ? "objective \(objective.rawValue) needs `network:` to say which network it trains"
                    : "objective \(objective.rawValue) needs a `\(role)` network"
                diagnostics.add(Diagnostic(.unboundRole, message, at: train.objective.span,
                                           label: role == "network" ? "which network?" : "which network is the \(role)?",
                                           notes: ["networks: \(names.joined(separator: ", "))"],
                                           help: ["add `\(role): NETWORK` to `train:`"]))
            }
        }
        return bindings
    }
}
