import StrataSymbolic

/// The text form of a checked model (`strata compile --emit ir`): one line
/// per value, attributes sorted, so that output is stable and diffable.
public enum IRPrinter {
    public static func print(_ model: CheckedModel) -> String {
        var out = "model \(model.name)\n"
        let dims = model.scope.names.map { name -> String in
            let c = model.scope.constraint(name)
            var parts: [String] = []
            if c.min > 1 { parts.append("min \(c.min)") }
            if c.multipleOf > 1 { parts.append("multiple_of \(c.multipleOf)") }
            return parts.isEmpty ? name : "\(name) (\(parts.joined(separator: ", ")))"
        }
        if !dims.isEmpty { out += "dims \(dims.joined(separator: ", "))\n" }
        for graph in model.networks {
            out += "\n" + print(graph, scope: model.scope)
        }
        return out
    }

    public static func print(_ graph: Graph, scope: DimScope) -> String {
        var names: [ValueID: String] = [:]
        for (name, v) in graph.inputs { names[v] = "%" + name }
        for node in graph.nodes { names[node.output] = "%" + node.path }
        func type(_ v: ValueID) -> String { describe(graph.type(v), scope) }
        var out = "network \(graph.name)\n"
        for (name, v) in graph.inputs { out += "  input %\(name): \(type(v))\n" }
        for node in graph.nodes {
            let args = node.inputs.map { names[$0] ?? "%?" }.joined(separator: ", ")
            let attrs = node.attributes.keys.sorted().map { "\($0)=\(describe(node.attributes[$0], scope))" }.joined(separator: ", ")
            out += "  \(names[node.output] ?? "%?") = \(node.op.name)(\(args))"
            out += attrs.isEmpty ? "" : " {\(attrs)}"
            out += ": \(type(node.output))\n"
            if !node.epilogue.isEmpty {
                out += "    epilogue " + node.epilogue.map { describe($0, names) }.joined(separator: ", ") + "\n"
            }
            for p in node.parameters {
                out += "    \(p.kind == .buffer ? "buffer" : "param") \(p.name): \(p.dtype.rawValue)\(p.shape)\n"
            }
        }
        for (name, v) in graph.outputs { out += "  output \(name) = \(names[v] ?? "%?"): \(type(v))\n" }
        return out
    }

    static func describe(_ e: Epilogue, _ names: [ValueID: String]) -> String {
        switch e {
        case .batchNorm(let prefix, let eps, let affine): return "batch_norm(\(prefix)*, eps=\(eps)\(affine ? "" : ", affine=false"))"
        case .activation(let op, let attributes, _):
            let attrs = attributes.keys.sorted().map { "\($0)=\(describe(attributes[$0], DimScope()))" }.joined(separator: ", ")
            return op.name + (attrs.isEmpty ? "" : "(\(attrs))")
        case .scale(let f): return "scale(\(f))"
        case .add(let v): return "add(\(names[v] ?? "%?"))"
        case .pixelShuffle(let r): return "store pixel_shuffle(\(r))"
        }
    }

    public static func describe(_ t: TensorType, _ scope: DimScope) -> String {
        "\(t.dtype.rawValue)[\(t.shape.map { scope.describe($0) }.joined(separator: ", "))]"
    }

    static func describe(_ a: AttrValue?, _ scope: DimScope) -> String {
        switch a {
        case .int(let v)?: return String(v)
        case .ints(let v)?: return "[\(v.map(String.init).joined(separator: ", "))]"
        case .float(let v)?: return String(v)
        case .bool(let v)?: return String(v)
        case .choice(let v)?: return v
        case .shape(let s)?: return "[\(s.map { scope.describe($0) }.joined(separator: ", "))]"
        case nil: return "?"
        }
    }
}
