import StrataIR
import StrataKernels

extension KernelSelector {
    /// A linear layer and the layer that reads its output (through a
    /// reshape or flatten, `middle`, if any) with nothing but affine maps
    /// between them, as one linear layer from the first's input to the
    /// second's output: a VAE decoder's fc 20 -> 64x7x7 and the
    /// conv_transpose2d 64 -> 32 after it are a 20 -> 32x14x14 map, 125 K
    /// multiply-adds an image instead of 1.67 M. With W₁, b₁ the first's
    /// weights and bias and L₂ the second's op without its bias,
    /// L₂(W₁ z + b₁) = (L₂ W₁) z + L₂ b₁: L₂ W₁ is the second's op on the
    /// columns of W₁, a batch of the first's input width, and L₂ b₁ joins
    /// the second's shift, which with its other per-channel steps is
    /// repeated over each channel's pixels. Taken where the composed map
    /// has fewer multiply-adds than the two layers and composing it (on
    /// the reference kernels, at plan time) costs at most 2^26.
    func affineChain(_ first: Node, through middle: Node?, _ second: Node, uses: [Int]) throws -> KernelChoice? {
        let link = middle?.output ?? first.output
        guard first.op == .linear, first.epilogue.isEmpty, [.conv2d, .convTranspose2d, .linear].contains(second.op),
              uses[first.output.index] == 1, uses[link.index] == 1, second.inputs == [link],
              middle.map({ $0.inputs == [first.output] && $0.epilogue.isEmpty }) ?? true,
              let w1 = parameter(first, "weight"), let w2 = parameter(second, "weight")
        else { return nil }
        let x = shape(first.inputs[0]), between = shape(link), out = shape(second.output)
        let (n, k, width) = (x[0], w1.shape[1], w1.shape[0])
        // Channels along axis 1 of the second's output, as the per-channel steps are repeated: [N, C, H, W] into a
        // convolution, [N, F] into a linear layer (which acts on the last axis).
        guard x.count == 2, between.count == (second.op == .linear ? 2 : 4), between.first == n,
              between.dropFirst().reduce(1, *) == width, out.first == n, n > 0 else { return nil }
        let outputs = out.dropFirst().reduce(1, *)
        let separate = (first.macs(in: graph).constant ?? 0) + (second.macs(in: graph).constant ?? 0)
        let alone = (second.macs(in: graph).constant ?? 0) / n
        guard k * outputs * n < separate, k * alone <= 1 << 26 else { return nil }

        let channels = second.op == .convTranspose2d ? w2.shape[1] * second.transposition.groups : w2.shape[0]
        let bias: [FusedEpilogue.Step] = parameter(second, "bias").map { [.channelShift($0.data)] } ?? []
        guard let t = try translate(second, channels: channels, first: bias, fold: true, shuffleAllowed: false) else { return nil }
        let pixels = outputs / channels

        // The second's op alone: an executor that has its weight and no bias, on the node without its epilogue.
        var bare = second
        bare.epilogue = []
        let linearPart = Executor(graph: graph, parameters: [graph.parameterPrefix + second.path + ".weight": w2])
        var noise = Random(seed: 0, stream: "unused")
        func apply(_ batch: Int, _ data: [Float]) throws -> [Float] {
            let input = Tensor(shape: [batch] + between.dropFirst(), data: data)
            return try linearPart.reference(bare, [.float(input)], values: [], noise: &noise).tensor.data
        }
        var columns = [Float](repeating: 0, count: k * width)
        for r in 0..<width {
            for c in 0..<k { columns[c * width + r] = w1.data[r * k + c] }
        }
        let composed = try apply(k, columns)
        let scale = t.scale ?? [Float](repeating: 1, count: channels)
        var weight = [Float](repeating: 0, count: outputs * k)
        for o in 0..<outputs {
            for c in 0..<k { weight[o * k + c] = composed[c * outputs + o] * scale[o / pixels] }
        }
        let carried = try parameter(first, "bias").map { try apply(1, $0.data) } ?? [Float](repeating: 0, count: outputs)
        var steps = Self.repeated(t.steps) { v in v.flatMap { [Float](repeating: $0, count: pixels) } }
        let shift = (0..<outputs).map { carried[$0] * scale[$0 / pixels] }
        if case .channelShift(let own)? = steps.first {
            steps[0] = .channelShift(zip(own, shift).map { $0 + $1 })
        } else {
            steps.insert(.channelShift(shift), at: 0)
        }
        let kernel = LinearKernel(rows: n, weight: Tensor(shape: [outputs, k], data: weight), scale: nil,
                                  epilogue: FusedEpilogue(steps: steps))
        let summary = (n < LinearKernel.vectorRows ? "gemv" : "gemm") + " linear composed with the \(second.op.name) after it"
        return .fast(kernel, residuals: t.residuals, summary: summary + describe(t.steps, shuffle: 1, folded: t.scale != nil))
    }

    /// `steps` with their per-channel values through `spread` (one value
    /// per channel to one per output of a linear kernel).
    static func repeated(_ steps: [FusedEpilogue.Step], _ spread: ([Float]) -> [Float]) -> [FusedEpilogue.Step] {
        steps.map { s in
            switch s {
            case .channelScale(let v): .channelScale(spread(v))
            case .channelShift(let v): .channelShift(spread(v))
            case .prelu(let v): .prelu(spread(v))
            default: s
            }
        }
    }
}
