import StrataIR
import StrataSymbolic
import StrataSyntax

/// The JSON Schema of spec files (Grammar/strata-spec.schema.json), generated
/// from the op catalog and the decoder's key tables so that editors running
/// yaml-language-server complete ops, attributes and keys with their docs.
public enum SpecSchema {
    public static let identifier: JSONValue = "^[A-Za-z_][A-Za-z0-9_]*$"

    public static func document() -> JSONValue {
        let names: JSONValue = ["pattern": identifier]
        var top: [(String, JSONValue)] = [
            ("strata", ["description": "Spec format version.", "const": .int(SpecDecoder.supportedVersion)]),
            ("name", ["description": "The model's name: a-z, 0-9, '_' and '-'.", "type": "string", "pattern": "^[a-z0-9_-]+$"]),
            ("description", ["description": "What the model is, in a sentence.", "type": "string"]),
            ("params", ["description": "Compile-time constants usable in any expression.", "type": "object",
                        "propertyNames": names, "additionalProperties": ref("number")]),
            ("dims", ref("dims")),
            ("blocks", ["description": "Reusable parametrized sub-networks, used like ops.", "type": "object",
                        "propertyNames": names, "additionalProperties": ref("block")]),
            ("networks", ["description": "The model's networks, by name.", "type": "object",
                          "propertyNames": names, "additionalProperties": ref("network")]),
            ("train", ref("train")),
        ]
        top += networkProperties
        return [
            "$schema": "http://json-schema.org/draft-07/schema#",
            "$id": "https://strata.dev/schema/spec-v1.json",
            "title": "Strata spec, format version 1",
            "description": "A declarative model spec for the strata compiler. See docs/spec-language.md.",
            "type": "object",
            "required": ["strata", "name"],
            "properties": .object(top),
            "additionalProperties": false,
            "definitions": .object(definitions),
        ]
    }

    private static func ref(_ name: String) -> JSONValue { ["$ref": .string("#/definitions/\(name)")] }

    private static var networkProperties: [(String, JSONValue)] {
        [
            ("inputs", ["description": "Input name to shape ([N, 3, H, W]) or {shape, dtype}.", "type": "object",
                        "additionalProperties": ref("input")]),
            ("layers", ["description": "Layer entries, applied top to bottom.", "type": "array", "items": ref("layer")]),
            ("outputs", ["description": "Output name to its shape, or {from, shape}.", "type": "object",
                         "additionalProperties": ref("output")]),
        ]
    }

    private static var definitions: [(String, JSONValue)] {
        var d: [(String, JSONValue)] = [
            ("expr", ["description": "Integer expression over params and dims: + - * / // % and parentheses.",
                      "type": ["integer", "string"]]),
            ("number", ["description": "A number, or an integer expression.", "type": ["number", "string"]]),
            ("shape", ["type": "array", "items": ref("expr")]),
            ("dims", dims),
            ("block", block),
            ("network", ["type": "object", "additionalProperties": false, "required": ["inputs", "layers", "outputs"],
                         "properties": .object(networkProperties)]),
        ]
        let dtypes: JSONValue = .array(DType.allCases.map { .string($0.rawValue) })
        let inputObject: JSONValue = ["type": "object", "required": ["shape"], "additionalProperties": false,
                                      "properties": ["shape": ref("shape"), "dtype": ["enum": dtypes]]]
        let outputObject: JSONValue = ["type": "object", "required": ["from"], "additionalProperties": false,
                                       "properties": ["from": ["type": "string"], "shape": ref("shape")]]
        d.append(("input", ["anyOf": [ref("shape"), inputObject]]))
        d.append(("output", ["anyOf": [ref("shape"), outputObject]]))
        d.append(("layer", layer))
        d.append(("train", train))
        d += Op.catalog.map { ("op_" + $0.op.name, opSchema($0)) }
        return d
    }

    private static var dims: JSONValue {
        let constraints: JSONValue = [
            "type": "object", "additionalProperties": false,
            "properties": [
                "min": ["description": "Smallest allowed size.", "$ref": "#/definitions/expr"],
                "multiple_of": ["description": "Sizes must be multiples of this.", "$ref": "#/definitions/expr"],
            ],
        ]
        let list: JSONValue = ["type": "array", "items": ["type": "string", "pattern": identifier]]
        let map: JSONValue = ["type": "object", "propertyNames": ["pattern": identifier],
                              "additionalProperties": ["anyOf": [["type": "null"], constraints]]]
        return ["description": "Run-time size symbols: a list of names, or name -> {min, multiple_of}.", "anyOf": [list, map]]
    }

    private static var block: JSONValue {
        let params: JSONValue = ["description": "Parameter defaults; `required` for none.", "type": "object",
                                 "additionalProperties": ["anyOf": [["const": "required"], ref("number")]]]
        return ["type": "object", "required": ["layers"], "additionalProperties": false,
                "properties": ["params": params, "layers": ["type": "array", "items": ref("layer")]]]
    }

    private static var layer: JSONValue {
        var properties: [(String, JSONValue)] = Op.catalog.map { spec in
            (spec.op.name, ["description": .string(opDescription(spec)), "$ref": .string("#/definitions/op_\(spec.op.name)")])
        }
        let fromList: JSONValue = ["type": "array", "items": ["type": "string"], "minItems": 1]
        properties += [
            ("name", ["description": "Names this layer's value for `from` and `outputs`.", "type": "string", "pattern": identifier]),
            ("from", ["description": "The value(s) this layer reads; default: the previous value.",
                      "anyOf": [["type": "string"], fromList]]),
            ("repeat", ["description": "Apply the entry this many times in a chain.", "$ref": "#/definitions/expr"]),
        ]
        let opNames: JSONValue = .array(Op.allCases.map { .string($0.name) })
        let bare: JSONValue = ["type": "string", "anyOf": [["enum": opNames], ["pattern": identifier]]]
        let entry: JSONValue = ["type": "object", "minProperties": 1, "properties": .object(properties)]
        return ["description": "A layer: an op or block name, or a mapping with the op as key and optional name, from, repeat.",
                "anyOf": [bare, entry]]
    }

    private static func opDescription(_ spec: OpSpec) -> String {
        var s = "\(spec.summary). \(spec.signature)."
        if let p = spec.primary { s += " Primary: \(p)." }
        return s
    }

    private static func opSchema(_ spec: OpSpec) -> JSONValue {
        var forms: [JSONValue] = [["type": "null"]]
        if let p = spec.primary, let a = spec.attribute(p) { forms.append(attributeSchema(a)) }
        if spec.attributes.isEmpty {
            forms.append(["type": "object", "maxProperties": 0])
        } else {
            forms.append(["type": "object", "additionalProperties": false,
                          "properties": .object(spec.attributes.map { ($0.name, attributeSchema($0)) })])
        }
        return ["anyOf": .array(forms)]
    }

    private static func attributeSchema(_ a: AttributeSpec) -> JSONValue {
        let expr = ref("expr")
        func list(_ n: Int) -> JSONValue { ["type": "array", "items": expr, "minItems": .int(n), "maxItems": .int(n)] }
        var pairs: [(String, JSONValue)] = [
            ("description", .string("\(a.doc) (\(a.type.description); default \(a.defaultValue.description))")),
        ]
        switch a.type {
        case .int: pairs.append(("$ref", "#/definitions/expr"))
        case .perAxis(let n): pairs.append(("anyOf", [expr, list(n)]))
        case .padding(let n): pairs.append(("anyOf", [expr, list(n), ["enum": ["same", "valid"]]]))
        case .float: pairs.append(("type", ["number", "string"]))
        case .bool: pairs.append(("type", "boolean"))
        case .choice(let c): pairs.append(("enum", .array(c.map(JSONValue.string))))
        case .shape: pairs += [("type", "array"), ("items", expr), ("minItems", 1)]
        case .axes: pairs += [("type", "array"), ("items", ["type": "integer"]), ("uniqueItems", true)]
        case .padAmount: pairs.append(("anyOf", [expr, list(1), list(2), list(4)]))
        }
        switch a.defaultValue {
        case .int(let v): pairs.append(("default", .int(v)))
        case .float(let v): pairs.append(("default", .number(v)))
        case .bool(let v): pairs.append(("default", .bool(v)))
        case .choice(let c): pairs.append(("default", .string(c)))
        case .required, .sameAs: break
        }
        return .object(pairs)
    }

    private static var train: JSONValue {
        var properties: [(String, JSONValue)] = [
            ("objective", ["description": "What training optimizes; it decides which networks are bound.",
                           "enum": .array(Objective.allCases.map { .string($0.rawValue) })]),
        ]
        for role in TrainSchema.allRoles {
            let objectives = Objective.allCases.filter { $0.roles.contains(role) }.map(\.rawValue).joined(separator: ", ")
            properties.append((role, ["description": .string("The network trained as the \(role) (objectives: \(objectives))."),
                                      "type": "string"]))
        }
        properties.append(("loss", ["enum": .array(TrainSchema.losses.map(JSONValue.string))]))
        var optimizerForms: [JSONValue] = [["enum": .array(TrainSchema.optimizers.map { .string($0.name) })]]
        for o in TrainSchema.optimizers {
            let settings: [(String, JSONValue)] = o.settings.map { s in
                let schema: JSONValue = s.defaults.count == 1
                    ? ["type": ["number", "string"], "default": .number(s.defaults[0])]
                    : ["type": "array", "minItems": .int(s.defaults.count), "maxItems": .int(s.defaults.count),
                       "default": .array(s.defaults.map(JSONValue.number))]
                return (s.name, schema)
            }
            let body: JSONValue = ["anyOf": [["type": "null"],
                                             ["type": "object", "additionalProperties": false, "properties": .object(settings)]]]
            optimizerForms.append(["type": "object", "additionalProperties": false, "required": [.string(o.name)],
                                   "properties": .object([(o.name, body)])])
        }
        properties.append(("optimizer", ["anyOf": .array(optimizerForms)]))
        properties.append(("batch", ["description": "Batch size.", "$ref": "#/definitions/expr"]))
        properties.append(("epochs", ["description": "Passes over the data.", "$ref": "#/definitions/expr"]))
        return ["description": "Training defaults; command-line flags override them.", "type": "object",
                "required": ["objective"], "additionalProperties": false, "properties": .object(properties)]
    }
}
