import StrataIR
import StrataKernels

/// Fresh parameters by PyTorch's default schemes, from `--seed`:
/// convolution and linear weights kaiming-uniform with a = sqrt(5), that is
/// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = weight.shape[1] times the
/// kernel size, and biases from the same bound; batch norm weight 1, bias 0,
/// running mean 0, running variance 1; other norms weight 1, bias 0;
/// embeddings N(0, 1); prelu slopes at their `init`.
public enum Initializers {
    public static func initialize(_ graph: Graph, seed: UInt64) -> [String: Tensor] {
        var values: [String: Tensor] = [:]
        for node in graph.nodes {
            let weight = node.parameters.first { $0.name.hasSuffix(".weight") }
            let fanIn = weight.map { $0.shape.dropFirst().reduce(1, *) } ?? 1
            let bound = Float(1 / Double(max(fanIn, 1)).squareRoot())
            for p in node.parameters {
                var rng = Random(seed: seed, stream: p.name)
                let count = p.elementCount
                let suffix = p.name.split(separator: ".").last.map(String.init) ?? ""
                let data: [Float]
                switch node.op {
                case .conv1d, .conv2d, .convTranspose2d, .linear:
                    data = rng.uniform(count: count, low: -bound, high: bound)
                case .embedding:
                    data = rng.normal(count: count)
                case .prelu:
                    data = [Float](repeating: Float(node.float("init") ?? 0.25), count: count)
                case .batchNorm, .instanceNorm, .groupNorm, .layerNorm:
                    data = [Float](repeating: suffix == "weight" || suffix == "running_var" ? 1 : 0, count: count)
                default:
                    data = [Float](repeating: 0, count: count)
                }
                values[p.name] = Tensor(shape: p.shape, data: data)
            }
        }
        return values
    }
}
