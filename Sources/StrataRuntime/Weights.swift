import StrataIR
import StrataKernels

/// Matches weight files against a network's parameters, strictly: one error
/// lists every missing, unexpected and mis-shaped tensor. Batch norm's
/// `num_batches_tracked` counter is accepted and ignored, as inference does
/// not use it.
public enum Weights {
    /// A `--weights` argument: a file with full names, or `NET=FILE` with
    /// that network's names unprefixed.
    public struct Source: Sendable {
        public let network: String?
        public let path: String

        public init(_ argument: String) {
            if let eq = argument.firstIndex(of: "="), !argument[..<eq].contains("/") {
                network = String(argument[..<eq])
                path = String(argument[argument.index(after: eq)...])
            } else {
                network = nil
                path = argument
            }
        }
    }

    /// The parameters of `graph` from `sources`. `prefix` is the network's
    /// name prefix in full names (`generator.`), empty for a single-network
    /// spec written at the top level; `networks` are all the spec's networks,
    /// whose tensors a file may also hold.
    public static func load(_ sources: [Source], for graph: Graph, prefix: String, networks: [String]) throws -> [String: Tensor] {
        let expected = Dictionary(uniqueKeysWithValues: graph.parameters.map { ($0.name, $0) })
        var found: [String: Tensor] = [:]
        var unexpected: [String] = [], misshaped: [String] = [], wrongType: [String] = []
        var seen: Set<String> = []
        for source in sources {
            if let net = source.network, net != graph.name {
                guard networks.contains(net) else {
                    throw RuntimeError("--weights \(net)=\(source.path) names no network of this spec; its networks: \(networks.joined(separator: ", "))")
                }
                continue
            }
            for (key, element) in try SafeTensors.read(path: source.path) {
                let name = source.network == nil ? key : prefix + key
                if key.hasSuffix(".num_batches_tracked") { continue }
                if source.network == nil, !prefix.isEmpty, !name.hasPrefix(prefix),
                   networks.contains(where: { name.hasPrefix($0 + ".") }) { continue }
                guard let p = expected[name] else {
                    unexpected.append(key)
                    continue
                }
                seen.insert(name)
                guard case .float(let t) = element else {
                    wrongType.append("\(key) (integers where \(p.dtype.rawValue) is expected)")
                    continue
                }
                guard t.shape == p.shape else {
                    misshaped.append("\(key): the file has \(t.shape), the spec needs \(p.shape)")
                    continue
                }
                found[name] = t
            }
        }
        let missing = graph.parameters.filter { $0.dtype == .f32 && !seen.contains($0.name) }.map { shortName($0.name, prefix) }
        if !missing.isEmpty || !unexpected.isEmpty || !misshaped.isEmpty || !wrongType.isEmpty {
            var lines = ["the weights do not match network '\(graph.name)' (\(sources.map(\.path).joined(separator: ", ")))"]
            for (title, items) in [("missing", missing), ("unexpected", unexpected), ("wrong shape", misshaped), ("wrong type", wrongType)]
            where !items.isEmpty {
                lines.append("  \(title) (\(items.count)): " + items.prefix(12).joined(separator: ", ") + (items.count > 12 ? ", ..." : ""))
            }
            if !missing.isEmpty && !unexpected.isEmpty && sources.contains(where: { $0.network == nil }) && !prefix.isEmpty {
                lines.append("  (a file with names unprefixed by '\(prefix)' loads with --weights \(graph.name)=FILE)")
            }
            throw RuntimeError(lines.joined(separator: "\n"))
        }
        return found
    }

    private static func shortName(_ name: String, _ prefix: String) -> String {
        name.hasPrefix(prefix) ? String(name.dropFirst(prefix.count)) : name
    }

    /// Every parameter of `graphs` as safetensors elements, batch norm's
    /// counter as an int64 zero, so that torch loads the file strictly.
    public static func elements(_ graphs: [Graph], values: [String: Tensor]) -> [String: SafeTensors.Element] {
        var out: [String: SafeTensors.Element] = [:]
        for g in graphs {
            for p in g.parameters {
                out[p.name] = p.dtype == .i64 ? .integer(shape: p.shape, values: [Int64](repeating: 0, count: p.elementCount))
                    : .float(values[p.name] ?? Tensor(zeros: p.shape))
            }
        }
        return out
    }
}
