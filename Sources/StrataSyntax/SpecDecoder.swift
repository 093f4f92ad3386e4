import StrataDiagnostics
import StrataSymbolic

/// Turns a YAML tree into a SpecFile, checking structure: which keys may
/// appear where, what kind of value each takes, and the form of every name and
/// expression. It reports every problem it finds and decodes around it, so one
/// run shows all independent mistakes.
public final class SpecDecoder {
    public static let topLevelKeys = [
        "strata", "name", "description", "params", "dims", "blocks", "networks", "train",
        "inputs", "layers", "outputs",
    ]
    public static let networkKeys = ["inputs", "layers", "outputs"]
    public static let blockKeys = ["params", "layers"]
    public static let dimKeys = ["min", "multiple_of"]
    /// Keys of a layer entry besides its op.
    public static let entryKeywords = ["name", "from", "repeat"]
    public static let supportedVersion = 1

    private let file: SourceFile
    private var diagnostics = DiagnosticSet()

    private init(file: SourceFile) { self.file = file }

    /// The decoded spec (nil only when the root is not a mapping) and every
    /// problem found on the way.
    public static func decode(_ root: YAMLNode) -> (SpecFile?, DiagnosticSet) {
        let decoder = SpecDecoder(file: root.span.file)
        let spec = decoder.spec(root)
        return (spec, decoder.diagnostics)
    }

    private func spec(_ root: YAMLNode) -> SpecFile? {
        guard let top = MappingFields(root, what: "the spec", allowed: Self.topLevelKeys, diagnostics: &diagnostics,
                                      help: ["a spec is a mapping that starts with `strata: 1` and `name:`"]) else {
            return nil
        }
        // Where a missing top-level key is reported: the first key, not a comment above it.
        let start = SourceSpan(file: file, range: root.span.range.lowerBound..<root.span.range.lowerBound)
        let version = top.require("strata", what: "the spec", ownerSpan: start, example: "strata: 1",
                                  diagnostics: &diagnostics).flatMap(versionNumber)
            ?? Located(Self.supportedVersion, start)
        let name = top.require("name", what: "the spec", ownerSpan: start, example: "name: my-model",
                               diagnostics: &diagnostics).flatMap(specName) ?? Located("", start)
        let description = top["description"].flatMap { string($0, what: "`description`") }
        let params = top["params"].map(params) ?? []
        let dims = top["dims"].map(dims) ?? []
        checkDistinct(params.map(\.name) + dims.map(\.name), what: "param or dim")
        let blocks = top["blocks"].map(blocks) ?? []

        var networks: [NetworkDecl] = []
        let shorthandKeys = Self.networkKeys.filter { top[$0] != nil }
        if let networksNode = top["networks"] {
            for key in shorthandKeys {
                diagnostics.add(Diagnostic(
                    .shorthandConflict, "`\(key)` at the top level cannot be mixed with `networks:`",
                    at: top.keySpan(key) ?? root.span, label: "top-level network key",
                    secondary: [Label(top.keySpan("networks") ?? root.span, "networks declared here")],
                    help: ["move `\(key)` into one of the networks, or drop `networks:` for a single-network spec"]))
            }
            for (key, value) in MappingFields.entries(networksNode, what: "`networks`", diagnostics: &diagnostics) ?? [] {
                if identifier(key, what: "network name"), let n = network(value, name: key) { networks.append(n) }
            }
            if networks.isEmpty, networksNode.mapping?.isEmpty ?? false {
                diagnostics.add(Diagnostic(.emptyCollection, "`networks` is empty", at: networksNode.span,
                                           label: "no networks", help: ["declare at least one network"]))
            }
        } else if !shorthandKeys.isEmpty {
            if let n = network(root, name: Located(name.value, name.span), fields: top) { networks.append(n) }
        } else if top.misspelt.isDisjoint(with: ["networks"] + Self.networkKeys) {
            diagnostics.add(Diagnostic(.missingKey, "the spec declares no network", at: start,
                                       label: "no `networks:` and no top-level `layers:`",
                                       help: ["add `networks:`, or `inputs:`, `layers:` and `outputs:` at the top level"]))
        }
        let training = top["train"].flatMap { self.train($0, key: top.keySpan("train")) }
        return SpecFile(source: file, version: version, name: name, description: description, params: params,
                        dims: dims, blocks: blocks, networks: networks, train: training,
                        isShorthand: top["networks"] == nil && !shorthandKeys.isEmpty)
    }

    // MARK: header

    private func versionNumber(_ node: YAMLNode) -> Located<Int>? {
        guard let text = node.plainScalar, let v = Int(text) else {
            diagnostics.add(Diagnostic(.wrongType, "`strata` takes the spec format version, found \(node.kindDescription)",
                                       at: node.span, label: "expected 1", fixIts: [FixIt(node.span, "1")]))
            return nil
        }
        if v != Self.supportedVersion {
            diagnostics.add(Diagnostic(.badVersion, "spec format version \(v) is not supported", at: node.span,
                                       label: "unsupported version",
                                       notes: ["this strata reads version \(Self.supportedVersion)"],
                                       help: v > Self.supportedVersion ? ["upgrade strata, or write the spec in version \(Self.supportedVersion)"] : [],
                                       fixIts: [FixIt(node.span, String(Self.supportedVersion))]))
        }
        return Located(v, node.span)
    }

    private func specName(_ node: YAMLNode) -> Located<String>? {
        guard let text = string(node, what: "`name`") else { return nil }
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789_-")
        if text.isEmpty || !text.allSatisfy({ allowed.contains($0) }) {
            let fixed = String(text.lowercased().map { allowed.contains($0) ? $0 : "-" })
            diagnostics.add(Diagnostic(.badName, "the spec name '\(text)' may only use a-z, 0-9, '_' and '-'",
                                       at: node.span, label: "not a valid spec name",
                                       help: fixed.isEmpty ? [] : ["write '\(fixed)'"],
                                       fixIts: fixed.isEmpty ? [] : [FixIt(node.span, fixed)]))
        }
        return Located(text, node.span)
    }

    // MARK: params and dims

    private func params(_ node: YAMLNode) -> [ParamDecl] {
        (MappingFields.entries(node, what: "`params`", diagnostics: &diagnostics) ?? []).compactMap { key, value in
            guard identifier(key, what: "param name") else { return nil }
            return ParamDecl(name: key, value: paramValue(value, what: "param '\(key.value)'"))
        }
    }

    /// A number: an integer expression (`64`, `ngf*2`) or a float (`0.2`, `1e-5`).
    public static func paramValue(_ node: YAMLNode, what: String) -> Result<ParamValue, Diagnostic> {
        if let text = node.plainScalar, let d = ExprParser.floatLiteral(text) {
            return .success(.float(Located(d, node.span)))
        }
        return ExprParser.parse(node, what: "a number for \(what)").map(ParamValue.integer)
    }

    private func paramValue(_ node: YAMLNode, what: String) -> ParamValue? {
        switch Self.paramValue(node, what: what) {
        case .success(let v): return v
        case .failure(let d):
            diagnostics.add(d)
            return nil
        }
    }

    private func dims(_ node: YAMLNode) -> [DimDecl] {
        if let items = node.sequence {
            return items.compactMap { item in
                guard let text = string(item, what: "a dim name") else { return nil }
                let name = Located(text, item.span)
                return identifier(name, what: "dim name") ? DimDecl(name: name, min: nil, multipleOf: nil) : nil
            }
        }
        guard node.mapping != nil else {
            diagnostics.add(Diagnostic(.wrongType, "`dims` takes a list of names or a mapping, found \(node.kindDescription)",
                                       at: node.span, label: "expected a list or a mapping",
                                       help: ["write `dims: [N, H, W]` or `dims: {N: {}, H: {multiple_of: 8}}`"]))
            return []
        }
        return (MappingFields.entries(node, what: "`dims`", diagnostics: &diagnostics) ?? []).compactMap { key, value in
            guard identifier(key, what: "dim name") else { return nil }
            if value.isNull { return DimDecl(name: key, min: nil, multipleOf: nil) }
            guard let fields = MappingFields(value, what: "dim '\(key.value)'", allowed: Self.dimKeys,
                                             diagnostics: &diagnostics,
                                             help: ["write `\(key.value): {}` or `\(key.value): {min: 1, multiple_of: 8}`"]) else {
                return DimDecl(name: key, min: nil, multipleOf: nil)
            }
            return DimDecl(name: key, min: fields["min"].flatMap { expression($0, what: "an integer for `min`") },
                           multipleOf: fields["multiple_of"].flatMap { expression($0, what: "an integer for `multiple_of`") })
        }
    }

    // MARK: blocks and networks

    private func blocks(_ node: YAMLNode) -> [BlockDecl] {
        (MappingFields.entries(node, what: "`blocks`", diagnostics: &diagnostics) ?? []).compactMap { key, value in
            guard identifier(key, what: "block name"),
                  let fields = MappingFields(value, what: "block '\(key.value)'", allowed: Self.blockKeys,
                                             diagnostics: &diagnostics) else { return nil }
            var params: [BlockParamDecl] = []
            for (pkey, pvalue) in fields["params"].flatMap({ MappingFields.entries($0, what: "the params of block '\(key.value)'", diagnostics: &diagnostics) }) ?? [] {
                guard identifier(pkey, what: "block parameter name") else { continue }
                if pkey.value == "input" {
                    diagnostics.add(Diagnostic(.badName, "'input' names a block's input and cannot be a parameter",
                                               at: pkey.span, label: "reserved name", help: ["choose another name"]))
                    continue
                }
                let required = pvalue.plainScalar == "required"
                params.append(BlockParamDecl(name: pkey, isRequired: required,
                                             defaultValue: required ? nil : paramValue(pvalue, what: "block parameter '\(pkey.value)'")))
            }
            let layersNode = fields.require("layers", what: "block '\(key.value)'", ownerSpan: key.span,
                                            example: "layers: [...]", diagnostics: &diagnostics)
            return BlockDecl(name: key, params: params, layers: layersNode.map { layers($0, owner: "block '\(key.value)'") } ?? [])
        }
    }

    private func network(_ node: YAMLNode, name: Located<String>, fields given: MappingFields? = nil) -> NetworkDecl? {
        let what = "network '\(name.value)'"
        guard let fields = given ?? MappingFields(node, what: what, allowed: Self.networkKeys, diagnostics: &diagnostics) else {
            return nil
        }
        let inputsNode = fields.require("inputs", what: what, ownerSpan: name.span, example: "inputs: {x: [N, 3, H, W]}",
                                        diagnostics: &diagnostics)
        let layersNode = fields.require("layers", what: what, ownerSpan: name.span, example: "layers: [...]",
                                        diagnostics: &diagnostics)
        let outputsNode = fields.require("outputs", what: what, ownerSpan: name.span, example: "outputs: {y: [N, 10]}",
                                         diagnostics: &diagnostics)
        var inputs: [InputDecl] = []
        for (key, value) in inputsNode.flatMap({ MappingFields.entries($0, what: "the inputs of \(what)", diagnostics: &diagnostics) }) ?? [] {
            guard identifier(key, what: "input name") else { continue }
            if value.sequence != nil {
                if let s = shape(value, what: "input '\(key.value)'") { inputs.append(InputDecl(name: key, shape: s, dtype: nil)) }
                continue
            }
            guard let f = MappingFields(value, what: "input '\(key.value)'", allowed: ["shape", "dtype"],
                                        diagnostics: &diagnostics, help: ["write `\(key.value): [N, 3, H, W]` or `\(key.value): {shape: [N, L], dtype: i32}`"]),
                  let shapeNode = f.require("shape", what: "input '\(key.value)'", ownerSpan: key.span,
                                            example: "shape: [N, ...]", diagnostics: &diagnostics),
                  let s = shape(shapeNode, what: "input '\(key.value)'") else { continue }
            let dtype = f["dtype"].flatMap { choice($0, what: "`dtype`", among: DType.allCases.map(\.rawValue)) }
                .flatMap { d in DType(rawValue: d.value).map { Located($0, d.span) } }
            inputs.append(InputDecl(name: key, shape: s, dtype: dtype))
        }
        if let inputsNode, inputsNode.mapping?.isEmpty ?? false {
            diagnostics.add(Diagnostic(.emptyCollection, "\(what) has no inputs", at: inputsNode.span,
                                       label: "empty", help: ["declare an input, as in `x: [N, 3, H, W]`"]))
        }
        var outputs: [OutputDecl] = []
        for (key, value) in outputsNode.flatMap({ MappingFields.entries($0, what: "the outputs of \(what)", diagnostics: &diagnostics) }) ?? [] {
            guard identifier(key, what: "output name") else { continue }
            if value.sequence != nil {
                if let s = shape(value, what: "output '\(key.value)'") { outputs.append(OutputDecl(name: key, from: nil, shape: s)) }
                continue
            }
            guard let f = MappingFields(value, what: "output '\(key.value)'", allowed: ["from", "shape"],
                                        diagnostics: &diagnostics, help: ["write `\(key.value): [N, 10]` or `\(key.value): {from: logits, shape: [N, 10]}`"]) else { continue }
            let from = f.require("from", what: "output '\(key.value)'", ownerSpan: key.span, example: "from: VALUE",
                                 diagnostics: &diagnostics).flatMap { n in string(n, what: "`from`").map { Located($0, n.span) } }
            outputs.append(OutputDecl(name: key, from: from, shape: f["shape"].flatMap { shape($0, what: "output '\(key.value)'") }))
        }
        if let outputsNode, outputsNode.mapping?.isEmpty ?? false {
            diagnostics.add(Diagnostic(.emptyCollection, "\(what) has no outputs", at: outputsNode.span,
                                       label: "empty", help: ["declare an output, as in `y: [N, 10]`"]))
        }
        return NetworkDecl(name: name, inputs: inputs, layers: layersNode.map { layers($0, owner: what) } ?? [],
                           outputs: outputs)
    }

    private func shape(_ node: YAMLNode, what: String) -> ShapeSyntax? {
        guard let items = node.sequence else {
            diagnostics.add(Diagnostic(.wrongType, "the shape of \(what) must be a list of dimensions, found \(node.kindDescription)",
                                       at: node.span, label: "expected a list such as [N, 3, H, W]"))
            return nil
        }
        let dims = items.compactMap { expression($0, what: "a dimension") }
        return dims.count == items.count ? ShapeSyntax(dims: dims, span: node.span) : nil
    }

    // MARK: layer entries

    private func layers(_ node: YAMLNode, owner: String) -> [LayerEntry] {
        guard let items = node.sequence else {
            diagnostics.add(Diagnostic(.wrongType, "the layers of \(owner) must be a list, found \(node.kindDescription)",
                                       at: node.span, label: "expected a list of layer entries",
                                       help: ["write each layer on its own line starting with `- `"]))
            return []
        }
        return items.compactMap(layerEntry)
    }

    private func layerEntry(_ node: YAMLNode) -> LayerEntry? {
        if let op = node.plainScalar, !node.isNull {
            guard isIdentifier(op) else {
                diagnostics.add(Diagnostic(.badLayerEntry, "a layer entry must name an op, found '\(op)'", at: node.span,
                                           label: "not an op name", help: ["write an op such as `- relu` or `- conv2d: {out: 64, kernel: 3}`"]))
                return nil
            }
            return LayerEntry(calls: [(Located(op, node.span), .none)], name: nil, from: nil, repeatCount: nil,
                              span: node.span)
        }
        guard let pairs = node.mapping else {
            diagnostics.add(Diagnostic(.badLayerEntry, "a layer entry must be an op name or a mapping, found \(node.kindDescription)",
                                       at: node.span, label: "not a layer entry",
                                       help: ["write an op such as `- relu` or `- conv2d: {out: 64, kernel: 3}`"]))
            return nil
        }
        var calls: [(callee: Located<String>, arguments: LayerArguments)] = []
        var name: Located<String>?
        var from: [Located<String>]?
        var repeatCount: ExprSyntax?
        for pair in pairs {
            guard let k = pair.key.scalar else {
                diagnostics.add(Diagnostic(.wrongType, "keys of a layer entry must be names, found \(pair.key.kindDescription)",
                                           at: pair.key.span, label: "expected a name"))
                continue
            }
            let key = Located(k, pair.key.span)
            switch k {
            case "name":
                if let s = string(pair.value, what: "`name`") {
                    let n = Located(s, pair.value.span)
                    if identifier(n, what: "value name") { name = n }
                }
            case "from":
                from = references(pair.value)
            case "repeat":
                repeatCount = expression(pair.value, what: "an integer for `repeat`")
            default:
                calls.append((key, arguments(pair.value)))
            }
        }
        guard !calls.isEmpty else {
            diagnostics.add(Diagnostic(.badLayerEntry, "this layer entry names no op", at: node.span,
                                       label: "only `name`, `from` or `repeat`",
                                       help: ["add the op as a key, as in `- add:` followed by `from: [a, b]`"]))
            return nil
        }
        return LayerEntry(calls: calls, name: name, from: from, repeatCount: repeatCount, span: node.span)
    }

    private func arguments(_ node: YAMLNode) -> LayerArguments {
        if node.isNull { return .none }
        guard let pairs = node.mapping else { return .primary(node) }
        var attributes: [(key: Located<String>, value: YAMLNode)] = []
        for pair in pairs {
            guard let k = pair.key.scalar else {
                diagnostics.add(Diagnostic(.wrongType, "attribute names must be names, found \(pair.key.kindDescription)",
                                           at: pair.key.span, label: "expected an attribute name"))
                continue
            }
            attributes.append((Located(k, pair.key.span), pair.value))
        }
        return attributes.isEmpty ? .none : .attributes(attributes)
    }

    /// `from: x` or `from: [a, b]`.
    private func references(_ node: YAMLNode) -> [Located<String>]? {
        if let items = node.sequence {
            if items.isEmpty {
                diagnostics.add(Diagnostic(.emptyCollection, "`from` lists no values", at: node.span, label: "empty list",
                                           help: ["name the values this layer reads, or drop `from` to read the previous one"]))
                return nil
            }
            let refs = items.compactMap { item in string(item, what: "a value name in `from`").map { Located($0, item.span) } }
            return refs.count == items.count ? refs : nil
        }
        return string(node, what: "`from`").map { [Located($0, node.span)] }
    }

    // MARK: train

    private func train(_ node: YAMLNode, key: SourceSpan?) -> TrainDecl? {
        guard let fields = MappingFields(node, what: "`train`", allowed: TrainSchema.keys + TrainSchema.allRoles,
                                         diagnostics: &diagnostics) else { return nil }
        guard let objectiveNode = fields.require("objective", what: "`train`", ownerSpan: key, example: "objective: classification",
                                                 diagnostics: &diagnostics),
              let o = choice(objectiveNode, what: "`objective`", among: Objective.allCases.map(\.rawValue)),
              let objective = Objective(rawValue: o.value) else { return nil }
        var bindings: [(role: Located<String>, network: Located<String>)] = []
        for (key, value) in fields.pairs where TrainSchema.allRoles.contains(key.value) {
            guard objective.roles.contains(key.value) else {
                diagnostics.add(Diagnostic(.unknownKey, "objective \(objective.rawValue) binds no `\(key.value)`",
                                           at: key.span, label: "not a role of \(objective.rawValue)",
                                           notes: ["\(objective.rawValue) binds: \(objective.roles.joined(separator: ", "))"]))
                continue
            }
            if let n = string(value, what: "`\(key.value)`") { bindings.append((key, Located(n, value.span))) }
        }
        let loss = fields["loss"].flatMap { choice($0, what: "`loss`", among: TrainSchema.losses) }
        return TrainDecl(objective: Located(objective, o.span), bindings: bindings, loss: loss,
                         optimizer: fields["optimizer"].flatMap(optimizer),
                         batch: fields["batch"].flatMap { expression($0, what: "an integer for `batch`") },
                         epochs: fields["epochs"].flatMap { expression($0, what: "an integer for `epochs`") },
                         span: node.span)
    }

    private func optimizer(_ node: YAMLNode) -> OptimizerDecl? {
        let names = TrainSchema.optimizers.map(\.name)
        if node.scalar != nil {
            return choice(node, what: "`optimizer`", among: names).map { OptimizerDecl(kind: $0, settings: []) }
        }
        guard let pairs = node.mapping, pairs.count == 1, pairs[0].key.scalar != nil else {
            diagnostics.add(Diagnostic(.wrongType, "`optimizer` takes one optimizer, found \(node.kindDescription)",
                                       at: node.span, label: "expected `adam` or `{adam: {lr: 0.001}}`"))
            return nil
        }
        guard let kind = choice(pairs[0].key, what: "optimizer", among: names),
              let schema = TrainSchema.optimizers.first(where: { $0.name == kind.value }) else { return nil }
        if pairs[0].value.isNull { return OptimizerDecl(kind: kind, settings: []) }
        guard let fields = MappingFields(pairs[0].value, what: "\(kind.value)'s settings",
                                         allowed: schema.settings.map(\.name), diagnostics: &diagnostics) else { return nil }
        let settings = fields.pairs.compactMap { key, value -> (key: Located<String>, value: Located<[FloatSyntax]>)? in
            let count = schema.settings.first { $0.name == key.value }?.defaults.count ?? 1
            let items = count == 1 ? [value] : value.sequence
            guard let items, items.count == count else {
                let found = value.sequence.map { "a list of \($0.count)" } ?? value.kindDescription
                diagnostics.add(Diagnostic(.wrongType, "`\(key.value)` takes a list of \(count) numbers, found \(found)",
                                           at: value.span, label: "expected \(count) numbers"))
                return nil
            }
            let numbers = items.compactMap { float($0, what: "`\(key.value)`") }
            return numbers.count == count ? (key, Located(numbers, value.span)) : nil
        }
        return OptimizerDecl(kind: kind, settings: settings)
    }

    // MARK: scalars

    /// A float: a number, or the name of a param holding one.
    public static func float(_ node: YAMLNode) -> FloatSyntax? {
        guard let text = node.plainScalar else { return nil }
        if let d = ExprParser.floatLiteral(text) ?? Int(text).map(Double.init) { return .literal(d) }
        return isIdentifier(text) ? .name(text) : nil
    }

    private func float(_ node: YAMLNode, what: String) -> FloatSyntax? {
        if let f = Self.float(node) { return f }
        diagnostics.add(Diagnostic(.notANumber, "\(what) takes a number, found \(node.kindDescription)", at: node.span,
                                   label: "expected a number or a param name"))
        return nil
    }

    private func expression(_ node: YAMLNode, what: String) -> ExprSyntax? {
        switch ExprParser.parse(node, what: what) {
        case .success(let e): return e
        case .failure(let d):
            diagnostics.add(d)
            return nil
        }
    }

    private func string(_ node: YAMLNode, what: String) -> String? {
        if let s = node.scalar, !node.isNull { return s }
        diagnostics.add(Diagnostic(.wrongType, "\(what) takes a name, found \(node.kindDescription)", at: node.span,
                                   label: "expected a name"))
        return nil
    }

    private func choice(_ node: YAMLNode, what: String, among choices: [String]) -> Located<String>? {
        guard let s = string(node, what: what) else { return nil }
        guard choices.contains(s) else {
            let suggestion = Suggestions.didYouMean(s, at: node.span, among: choices)
            diagnostics.add(Diagnostic(.badChoice, "'\(s)' is not a valid \(what)", at: node.span,
                                       label: "unknown \(what)", notes: ["expected one of: \(choices.joined(separator: ", "))"],
                                       help: suggestion.help, fixIts: suggestion.fixIts))
            return nil
        }
        return Located(s, node.span)
    }

    /// Names that expressions and `from` can refer to: letters, digits, `_`.
    public static func isIdentifier(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else {
            return false
        }
        return s.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }

    private func isIdentifier(_ s: String) -> Bool { Self.isIdentifier(s) }

    private func identifier(_ name: Located<String>, what: String) -> Bool {
        if isIdentifier(name.value) { return true }
        let fixed = name.value.map { ($0.isLetter || $0.isNumber) && $0.isASCII ? $0 : "_" }
        let suggestion = String(fixed.first?.isNumber ?? false ? ["_"] + fixed : fixed)
        diagnostics.add(Diagnostic(.badName, "'\(name.value)' is not a valid \(what)", at: name.span,
                                   label: "expected letters, digits and '_', not starting with a digit",
                                   help: suggestion.isEmpty ? [] : ["write '\(suggestion)'"],
                                   fixIts: suggestion.isEmpty ? [] : [FixIt(name.span, suggestion)]))
        return false
    }

    private func checkDistinct(_ names: [Located<String>], what: String) {
        var seen: [String: SourceSpan] = [:]
        for n in names {
            if let first = seen[n.value] {
                diagnostics.add(Diagnostic(.duplicateSymbol, "'\(n.value)' is declared twice", at: n.span,
                                           label: "declared again here", secondary: [Label(first, "first declared here")],
                                           help: ["params and dims share one namespace: rename one of them"]))
            } else {
                seen[n.value] = n.span
            }
        }
    }
}
