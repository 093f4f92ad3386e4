import StrataSymbolic

extension Node {
    /// Multiply-accumulates of this node for the whole batch, by the
    /// convention of docs/ops.md: convolutions and linear layers only.
    ///   conv              N * Cout * Hout * Wout * (Cin/groups) * kH * kW
    ///   conv_transpose2d  N * Cin * Hin * Win * (Cout/groups) * kH * kW
    ///   linear            (elements of the output) * in_features
    public func macs(in graph: Graph) -> Poly {
        let weight = parameters.first { $0.name.hasSuffix(".weight") }
        switch op {
        case .conv1d, .conv2d, .linear:
            // Every output element takes one dot product over a weight row.
            guard let w = weight else { return .zero }
            let row = w.shape.dropFirst().reduce(1, *)
            return (try? elements(graph.type(output).shape).scaled(by: row)) ?? .zero
        case .convTranspose2d:
            // Every input element scatters one weight row of Cout/groups * kH * kW.
            guard let w = weight else { return .zero }
            let row = w.shape.dropFirst().reduce(1, *)
            return (try? elements(graph.type(inputs[0]).shape).scaled(by: row)) ?? .zero
        case .embedding, .maxPool1d, .avgPool1d, .maxPool2d, .avgPool2d, .globalAvgPool, .globalMaxPool, .batchNorm,
             .instanceNorm, .groupNorm, .layerNorm, .dropout, .relu, .sigmoid, .tanh, .silu, .elu, .gelu, .leakyRelu,
             .prelu, .softmax, .logSoftmax, .flatten, .reshape, .permute, .concat, .add, .mul, .scale, .pad, .upsample,
             .pixelShuffle, .reparameterize:
            return .zero
        }
    }

    private func elements(_ shape: [Poly]) throws -> Poly {
        try shape.reduce(Poly.constant(1)) { try $0.multiplied(by: $1) }
    }
}

extension Graph {
    public func macs() -> Poly {
        nodes.reduce(Poly.zero) { (try? $0.adding($1.macs(in: self))) ?? $0 }
    }

    /// The most bytes of activations alive at once when the nodes run in
    /// order and each value is freed after its last use (inputs included,
    /// outputs kept to the end); nil while any shape is symbolic.
    public func peakActivationBytes() -> Int? {
        var lastUse = [Int](repeating: -1, count: types.count)
        for (i, node) in nodes.enumerated() { for v in node.inputs { lastUse[v.index] = i } }
        for (_, v) in outputs { lastUse[v.index] = nodes.count }
        func bytes(_ v: ValueID) -> Int? {
            type(v).shape.reduce(Optional(4)) { acc, d in acc.flatMap { a in d.constant.map { a * $0 } } }
        }
        var live = 0
        for (_, v) in inputs {
            guard let b = bytes(v) else { return nil }
            live += b
        }
        var peak = live
        for (i, node) in nodes.enumerated() {
            guard let b = bytes(node.output) else { return nil }
            live += b
            peak = max(peak, live)
            for v in Set(node.inputs + [node.output]) where lastUse[v.index] == i || (v == node.output && lastUse[v.index] < 0) {
                live -= bytes(v) ?? 0
            }
        }
        return peak
    }
}

extension CheckedModel {
    /// The model with some dims fixed to values (polynomial-symbol values:
    /// see `DimScope.binding(real:)`): every shape they appear in becomes
    /// concrete, or simpler.
    public func specialized(_ binding: [String: Int]) -> CheckedModel {
        let values = binding.mapValues { Poly.constant($0) }
        func fix(_ p: Poly) -> Poly { (try? p.substituting(values)) ?? p }
        let graphs = networks.map { g in
            Graph(name: g.name, parameterPrefix: g.parameterPrefix, inputs: g.inputs, outputs: g.outputs,
                  types: g.types.map { TensorType($0.dtype, $0.shape.map(fix)) },
                  nodes: g.nodes.map { n in
                      var m = Node(op: n.op, attributes: n.attributes.mapValues { a in
                          if case .shape(let s) = a { return .shape(s.map(fix)) }
                          return a
                      }, inputs: n.inputs, output: n.output, path: n.path, parameters: n.parameters, span: n.span)
                      m.epilogue = n.epilogue
                      m.fused = n.fused
                      return m
                  })
        }
        return CheckedModel(name: name, scope: scope, networks: graphs, trainBindings: trainBindings)
    }
}
