/// Checks the structural invariants every pass must keep: each node reads
/// only values defined before it, each value is defined once, and every
/// output exists. The optimizer runs it after each rewrite.
public enum Verifier {
    public static func verify(_ g: Graph) -> [String] {
        var defined = Set(g.inputs.map(\.value))
        var problems: [String] = []
        for node in g.nodes {
            let reads = node.inputs + node.epilogue.compactMap { e -> ValueID? in
                if case .add(let v) = e { return v }
                return nil
            }
            for v in reads where !defined.contains(v) {
                problems.append("\(node.op.name) \(node.path) reads %\(v.index) before it is defined")
            }
            if defined.contains(node.output) { problems.append("%\(node.output.index) is defined twice (by \(node.path))") }
            if node.output.index >= g.types.count { problems.append("\(node.path) writes %\(node.output.index), which has no type") }
            defined.insert(node.output)
        }
        for (name, v) in g.outputs where !defined.contains(v) { problems.append("output \(name) is not computed") }
        return problems
    }
}
