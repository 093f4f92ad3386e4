import StrataIR

/// Inference rewrites to a fixed point: small rules, each returning a patch
/// (or nil when it does not apply), applied one at a time with the graph
/// verified after each, and an optional limit on the number of rewrites to
/// bisect a miscompile (`--rewrite-limit`).
public enum Optimizer {
    public struct Result: Sendable {
        public let graph: Graph
        /// What was rewritten, in order.
        public let applied: [String]
        /// Ops that could have fused but did not, and why.
        public let missed: [String]
    }

    public static func optimize(_ graph: Graph, rewriteLimit: Int? = nil) throws -> Result {
        var work = Working(graph)
        var applied: [String] = []
        rewriting: while rewriteLimit.map({ applied.count < $0 }) ?? true {
            for rule in Rules.all {
                for index in work.nodes.indices where work.nodes[index] != nil {
                    guard let description = rule.apply(&work, index) else { continue }
                    applied.append("\(rule.name): \(description)")
                    let problems = Verifier.verify(work.graph)
                    if !problems.isEmpty {
                        throw OptimizerError("rule \(rule.name) broke the graph after \(applied.count) rewrites: \(problems.joined(separator: "; "))")
                    }
                    continue rewriting
                }
            }
            break
        }
        return Result(graph: work.graph, applied: applied, missed: Rules.missed(work))
    }
}

public struct OptimizerError: Error, Sendable, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A graph being rewritten: removed nodes are nil until the graph is rebuilt.
struct Working {
    let name: String
    let prefix: String
    var inputs: [(name: String, value: ValueID)]
    var outputs: [(name: String, value: ValueID)]
    var types: [TensorType]
    var nodes: [Node?]

    init(_ g: Graph) {
        name = g.name
        prefix = g.parameterPrefix
        inputs = g.inputs
        outputs = g.outputs
        types = g.types
        nodes = g.nodes
    }

    var graph: Graph {
        Graph(name: name, parameterPrefix: prefix, inputs: inputs, outputs: outputs, types: types, nodes: nodes.compactMap { $0 })
    }

    /// The index of the node that computes `v`, if a node does.
    func producer(_ v: ValueID) -> Int? { nodes.firstIndex { $0?.output == v } }

    /// How many reads of `v` there are, by nodes, epilogues and outputs.
    func uses(_ v: ValueID) -> Int {
        var n = outputs.filter { $0.value == v }.count
        for node in nodes.compactMap({ $0 }) {
            n += node.inputs.filter { $0 == v }.count
            n += node.epilogue.filter { if case .add(let w) = $0 { return w == v } else { return false } }.count
        }
        return n
    }

    func isOutput(_ v: ValueID) -> Bool { outputs.contains { $0.value == v } }

    /// Every read of `old` reads `new` instead.
    mutating func replaceUses(of old: ValueID, with new: ValueID) {
        for i in nodes.indices {
            guard var node = nodes[i] else { continue }
            let inputs = node.inputs.map { $0 == old ? new : $0 }
            let epilogue = node.epilogue.map { e -> Epilogue in
                if case .add(let w) = e, w == old { return .add(new) }
                return e
            }
            var replaced = Node(op: node.op, attributes: node.attributes, inputs: inputs, output: node.output, path: node.path,
                                parameters: node.parameters, span: node.span)
            replaced.epilogue = epilogue
            replaced.fused = node.fused
            node = replaced
            nodes[i] = node
        }
        outputs = outputs.map { ($0.name, $0.value == old ? new : $0.value) }
    }

    /// Fuses node `consumer` into node `producer` as `epilogue`: the producer
    /// takes the consumer's parameters and output type, and the consumer's
    /// readers read the producer.
    mutating func fuse(_ consumer: Int, into producer: Int, as epilogue: Epilogue) {
        guard var p = nodes[producer], let c = nodes[consumer] else { return }
        p.epilogue.append(epilogue)
        p.fused.append("\(c.op.name) \(c.path)")
        var merged = Node(op: p.op, attributes: p.attributes, inputs: p.inputs, output: p.output, path: p.path,
                          parameters: p.parameters + c.parameters, span: p.span)
        merged.epilogue = p.epilogue
        merged.fused = p.fused
        types[p.output.index] = types[c.output.index]
        nodes[producer] = merged
        nodes[consumer] = nil
        replaceUses(of: c.output, with: p.output)
    }
}
