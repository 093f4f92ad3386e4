import Foundation
import StrataIR
import StrataKernels
import StrataRuntime
import StrataSymbolic

/// Where run inputs come from and how images go out.
enum Sources {
    /// `FILE.npy`, `FILE.png[:range=A,B]`, `normal`, `uniform` or `zeros`.
    static func load(_ source: String, input: String, type: TensorType, scope: DimScope, seed: UInt64) throws -> Value {
        switch source {
        case "normal", "uniform", "zeros":
            let unknown = type.shape.filter { $0.constant == nil }.flatMap(\.symbols)
            guard unknown.isEmpty else {
                let dims = Array(Set(unknown)).sorted()
                throw UsageError("input '\(input)' has shape \(type.display(scope)); a \(source) input needs \(dims.joined(separator: ", ")) fixed, as in --dims \(dims.map { "\($0)=1" }.joined(separator: ","))")
            }
            let shape = type.shape.map { $0.constant ?? 0 }
            let count = shape.reduce(1, *)
            if type.dtype == .i32 {
                throw UsageError("input '\(input)' takes token ids; give them as an integer .npy file")
            }
            var rng = Random(seed: seed, stream: "input." + input)
            let data: [Float] = source == "zeros" ? [Float](repeating: 0, count: count)
                : source == "normal" ? rng.normal(count: count) : rng.uniform(count: count, low: 0, high: 1)
            return .float(Tensor(shape: shape, data: data))
        default:
            var path = source
            var range: (Float, Float) = (0, 1)
            if let r = source.range(of: ":range=") {
                path = String(source[..<r.lowerBound])
                let parts = source[r.upperBound...].split(separator: ",").compactMap { Float(String($0)) }
                guard parts.count == 2, parts[0] < parts[1] else {
                    throw UsageError("--input \(input)=\(source): range takes two increasing numbers, as in :range=-1,1")
                }
                range = (parts[0], parts[1])
            }
            let lower = path.lowercased()
            if lower.hasSuffix(".npy") {
                guard FileManager.default.fileExists(atPath: path) else { throw UsageError("no such file: \(path)") }
                return try NPY.read(path: path)
            }
            guard lower.hasSuffix(".png") else {
                throw UsageError("--input \(input)=\(source): give FILE.npy, FILE.png, normal, uniform or zeros")
            }
            guard FileManager.default.fileExists(atPath: path) else { throw UsageError("no such file: \(path)") }
            var image = try PNGImage.read(path: path)
            if let c = type.shape.count == 4 ? type.shape[1].constant : nil, c != image.shape[1] {
                let kinds = [1: "gray", 2: "gray with alpha", 3: "RGB", 4: "RGBA"]
                throw InputError("input '\(input)' takes \(c) channels (\(kinds[c] ?? "\(c)")), but \(path) has \(image.shape[1]) (\(kinds[image.shape[1]] ?? "?"))")
            }
            if range != (0, 1) { image.data = image.data.map { range.0 + (range.1 - range.0) * $0 } }
            return .float(image)
        }
    }

    /// One image, or a grid for a batch; from [-1, 1] when the network ends
    /// in tanh, else from [0, 1], clamped.
    static func writeImage(_ t: Tensor, to path: String, output: String, tanh: Bool) throws {
        guard t.rank == 4 else {
            throw InputError("output '\(output)' has shape \(t.shape); an image output needs [N, C, H, W]")
        }
        var scaled = t
        if tanh { scaled.data = t.data.map { ($0 + 1) / 2 } }
        try PNGImage.write(PNGImage.grid(scaled), to: path)
    }
}

/// The `-` destination: a short description of a tensor, and the top five
/// classes of a classifier's logits.
enum Printer {
    /// What a classifier's output holds.
    enum Scores { case logits, probabilities, logProbabilities }

    static func describe(_ name: String, _ t: Tensor, classifier: Scores?) -> String {
        let n = Double(max(t.count, 1))
        let mean = t.data.reduce(0.0) { $0 + Double($1) } / n
        let std = (t.data.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n).squareRoot()
        var out = "\(name): f32\(t.shape)  min \(format(Double(t.data.min() ?? 0)))  max \(format(Double(t.data.max() ?? 0)))"
            + "  mean \(format(mean))  std \(format(std))\n"
        guard let classifier else { return out }
        let k = t.shape[1]
        for sample in 0..<min(t.shape[0], 8) {
            let row = t.data[(sample * k)..<((sample + 1) * k)].map(Double.init)
            let m = row.max() ?? 0
            let exps = classifier == .probabilities ? row : row.map { Foundation.exp($0 - m) }
            let total = exps.reduce(0, +)
            let top = exps.enumerated().sorted { $0.element > $1.element }.prefix(5)
            out += "  sample \(sample) top-5: " + top.map { "\($0.offset) (\(format($0.element / total)))" }.joined(separator: ", ") + "\n"
        }
        return out
    }

    static func format(_ v: Double) -> String { String(format: "%.4g", v) }
}
