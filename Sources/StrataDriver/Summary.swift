import StrataIR
import StrataSymbolic

/// `strata summary`: a layer table per network with parameters and MACs,
/// then totals, parameter bytes and peak activation memory.
public enum Summary {
    public struct Row: Sendable {
        public let layer: String
        public let op: String
        public let shape: String
        public let parameters: Int
        public let macs: String
    }

    public static func rows(_ graph: Graph, scope: DimScope) -> [Row] {
        graph.nodes.map { node in
            Row(layer: node.path, op: node.op.name, shape: IRPrinter.describe(graph.type(node.output), scope),
                parameters: node.parameters.filter(\.trainable).reduce(0) { $0 + $1.elementCount },
                macs: count(node.macs(in: graph), scope))
        }
    }

    public static func text(_ model: CheckedModel, networks: [Graph], dims: DimsBinding?) -> String {
        var out = ""
        for graph in networks {
            let inputs = graph.inputs.map { name, v in
                Row(layer: name, op: "input", shape: IRPrinter.describe(graph.type(v), model.scope), parameters: 0, macs: "0")
            }
            let all = [Row(layer: "layer", op: "op", shape: "output shape", parameters: 0, macs: "MACs")]
                + inputs + rows(graph, scope: model.scope)
            let fixed = dims.map { " (\($0.values.map { "\($0.name)=\($0.value)" }.joined(separator: ", ")))" } ?? ""
            out += "\(model.name): network \(graph.name)\(fixed)\n"
            let w0 = all.map(\.layer.count).max() ?? 0, w1 = all.map(\.op.count).max() ?? 0
            let w2 = all.map(\.shape.count).max() ?? 0, w3 = all.map { grouped($0.parameters).count }.max() ?? 0
            for (i, r) in all.enumerated() {
                let params = i == 0 ? "params" : grouped(r.parameters)
                out += pad(r.layer, w0) + "  " + pad(r.op, w1) + "  " + pad(r.shape, w2) + "  "
                    + String(repeating: " ", count: max(0, max(w3, 6) - params.count)) + params + "  " + r.macs + "\n"
            }
            let t = totals(graph, scope: model.scope)
            out += "trainable parameters: \(grouped(t.trainable))\n"
            out += "buffers: \(grouped(t.buffers))\(t.buffers > 0 ? " (running statistics, not trained)" : "")\n"
            out += "parameter bytes: \(grouped(t.bytes)) (\(mebibytes(t.bytes)))\n"
            out += "MACs: \(t.macs)\n"
            out += "peak activation memory: " + (t.peak.map { "\(grouped($0)) bytes (\(mebibytes($0)))" } ?? "give --dims to compute") + "\n\n"
        }
        return out
    }

    public struct Totals: Sendable {
        public let trainable: Int
        public let buffers: Int
        public let bytes: Int
        public let macs: String
        public let peak: Int?
    }

    public static func totals(_ graph: Graph, scope: DimScope) -> Totals {
        let ps = graph.parameters
        return Totals(
            trainable: ps.filter(\.trainable).reduce(0) { $0 + $1.elementCount },
            buffers: ps.filter { !$0.trainable }.reduce(0) { $0 + $1.elementCount },
            bytes: ps.reduce(0) { $0 + $1.elementCount * $1.dtype.byteCount },
            macs: count(graph.macs(), scope),
            peak: graph.peakActivationBytes())
    }

    public static func json(_ model: CheckedModel, networks: [Graph], dims: DimsBinding?) -> String {
        let items: [JSONValue] = networks.map { graph in
            let t = totals(graph, scope: model.scope)
            let layers: [JSONValue] = rows(graph, scope: model.scope).map { r in
                ["layer": .string(r.layer), "op": .string(r.op), "shape": .string(r.shape),
                 "params": .int(r.parameters), "macs": macsValue(r.macs)]
            }
            return [
                "model": .string(model.name),
                "network": .string(graph.name),
                "dims": .object((dims?.values ?? []).map { ($0.name, .int($0.value)) }),
                "layers": .array(layers),
                "totals": [
                    "trainable_parameters": .int(t.trainable), "buffers": .int(t.buffers),
                    "parameter_bytes": .int(t.bytes), "macs": macsValue(t.macs),
                    "peak_activation_bytes": t.peak.map(JSONValue.int) ?? .null,
                ],
            ]
        }
        return JSONValue.array(items).pretty() + "\n"
    }

    /// A count as a number when it is one, else as its expression (`3*N`).
    static func count(_ p: Poly, _ scope: DimScope) -> String { p.constant.map(grouped) ?? scope.describe(p) }

    private static func macsValue(_ s: String) -> JSONValue {
        Int(s.filter { $0 != "," }).map(JSONValue.int) ?? .string(s)
    }

    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(ch)
        }
        return (n < 0 ? "-" : "") + out
    }

    static func mebibytes(_ bytes: Int) -> String {
        let mib = Double(bytes) / 1_048_576
        let rounded = (mib * 100).rounded() / 100
        return "\(rounded) MiB"
    }

    private static func pad(_ s: String, _ width: Int) -> String { s + String(repeating: " ", count: max(0, width - s.count)) }
}
