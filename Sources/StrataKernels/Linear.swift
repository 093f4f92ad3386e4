/// Reference fully connected layer and embedding lookup.
public enum Linear {
    /// x: [..., F], weight: [O, F], bias: [O] -> [..., O]
    public static func forward(_ x: Tensor, weight w: Tensor, bias: Tensor?) -> Tensor {
        let f = w.shape[1], o = w.shape[0]
        let rows = x.count / f
        var y = Tensor(zeros: Array(x.shape.dropLast()) + [o])
        for r in 0..<rows {
            for j in 0..<o {
                var acc = Double(bias?.data[j] ?? 0)
                for k in 0..<f { acc += Double(x.data[r * f + k]) * Double(w.data[j * f + k]) }
                y.data[r * o + j] = Float(acc)
            }
        }
        return y
    }

    /// ids: [...] i32, weight: [vocab, dim] -> [..., dim]
    public static func embedding(_ ids: IntTensor, weight w: Tensor) throws -> Tensor {
        let vocab = w.shape[0], dim = w.shape[1]
        var y = Tensor(zeros: ids.shape + [dim])
        for (i, id) in ids.data.enumerated() {
            guard id >= 0 && Int(id) < vocab else {
                throw KernelError("token id \(id) is outside the embedding's vocabulary of \(vocab) (ids 0 to \(vocab - 1))")
            }
            for d in 0..<dim { y.data[i * dim + d] = w.data[Int(id) * dim + d] }
        }
        return y
    }
}
