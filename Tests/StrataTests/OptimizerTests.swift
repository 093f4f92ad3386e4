import Foundation
import StrataDiagnostics
import StrataDriver
import StrataIR
import StrataKernels
import StrataOptimize
import StrataRuntime
import Testing

/// The optimizer: that fusion happens (by counting kernels), that it never
/// changes what a network computes, and what it reports.
@Suite struct OptimizerTests {
    static func graph(_ text: String) throws -> (CheckedModel, Graph) {
        let (model, d) = Pipeline.compile(SourceFile(path: "t.yaml", text: text))
        let m = try #require(model, "\(d.diagnostics.map(\.message))")
        return (m, try #require(m.networks.first))
    }

    @Test func convBatchNormReluIsOneKernel() throws {
        let (_, g) = try Self.graph("""
            strata: 1
            name: cbr
            dims: [N]
            inputs: {x: [N, 3, 8, 8]}
            layers:
              - conv2d: {out: 4, kernel: 3, padding: 1}
              - batch_norm
              - relu
            outputs: {y: [N, 4, 8, 8]}
            """)
        let r = try Optimizer.optimize(g)
        #expect(r.graph.nodes.count == 1)
        #expect(r.graph.nodes[0].epilogue.count == 2)
        #expect(r.missed.isEmpty)
    }

    @Test func residualAddFusesIntoTheSecondConv() throws {
        let model = try Pipeline.load(path: Repo.url("Specs/edsr-baseline-x2.yaml").path, network: nil, dims: nil).model
        let r = try Optimizer.optimize(try #require(model.networks.first))
        // head, 16 blocks of two convs, body, the upsampler conv (with its pixel shuffle) and the tail.
        #expect(r.graph.nodes.count == 1 + 32 + 1 + 1 + 1)
        #expect(r.graph.nodes.allSatisfy { $0.op == .conv2d })
        // res_scale is 1: the scale is dropped, not fused.
        #expect(r.applied.filter { $0.hasSuffix("by 1 removed") }.count == 16)
        let second = try #require(r.graph.nodes.first { $0.path == "1.0.2" })
        #expect(second.epilogue.count == 1)
        if case .add = second.epilogue.first {} else { Issue.record("the block's add is not fused into 1.0.2: \(second.epilogue)") }
    }

    /// A style network's residual block: the first norm takes its relu, the
    /// second the block's add (`optimizedEqualsReference` checks the result).
    @Test func instanceNormTakesReluAndResidualAdd() throws {
        let model = try Pipeline.load(path: Repo.url("Specs/fast-style-transfer.yaml").path, network: nil, dims: nil).model
        let g = try #require(model.networks.first)
        let r = try Optimizer.optimize(g)
        #expect(!r.graph.nodes.contains { $0.op == .relu || $0.op == .add })
        let first = try #require(r.graph.nodes.first { $0.path == "3.0.1" }), body = try #require(r.graph.nodes.first { $0.path == "3.0.body" })
        #expect(first.op == .instanceNorm && first.epilogue.count == 1)
        if case .add = body.epilogue.first {} else { Issue.record("the block's add is not fused into its second norm: \(body.epilogue)") }
    }

    @Test func rewriteLimitStopsEarly() throws {
        let model = try Pipeline.load(path: Repo.url("Specs/dcgan-64.yaml").path, network: nil, dims: nil).model
        let g = try #require(model.network("generator"))
        #expect(try Optimizer.optimize(g, rewriteLimit: 0).graph.nodes.count == g.nodes.count)
        let three = try Optimizer.optimize(g, rewriteLimit: 3)
        #expect(three.applied.count == 3)
        #expect(three.graph.nodes.count == g.nodes.count - 3)
    }

    @Test func unfusableOpsAreExplained() throws {
        let (_, g) = try Self.graph("""
            strata: 1
            name: branch
            dims: [N]
            inputs: {x: [N, 3, 8, 8]}
            layers:
              - conv2d: {out: 4, kernel: 3, padding: 1}
                name: c
              - relu:
                from: c
                name: a
              - sigmoid:
                from: c
                name: b
              - add:
                from: [a, b]
            outputs: {y: [N, 4, 8, 8]}
            """)
        let r = try Optimizer.optimize(g)
        #expect(r.graph.nodes.count == 4)
        #expect(r.missed.contains { $0.contains("relu a not fused") && $0.contains("has 2 readers") })
    }

    /// Every spec computes the same with and without the rewrites.
    @Test(arguments: Repo.files(under: "Specs", extensions: ["yaml"]))
    func optimizedEqualsReference(_ path: String) throws {
        let model = try Pipeline.load(path: Repo.url(path).path, network: nil, dims: nil).model
        for graph in model.networks {
            var real: [String: Int] = [:]
            for name in model.scope.names {
                let c = model.scope.constraint(name)
                real[name] = ((max(c.min, name == "N" ? 2 : 12) + c.multipleOf - 1) / c.multipleOf) * c.multipleOf
            }
            let binding = try #require(model.scope.binding(real: real))
            let concrete = try #require(model.specialized(binding).network(graph.name))
            var parameters = Initializers.initialize(concrete, seed: 3)
            // Non-trivial statistics and affine terms, so that folding batch norm is tested.
            var rng = Random(seed: 4)
            for p in concrete.parameters where ["running_mean", "running_var", "weight", "bias"].contains(String(p.name.split(separator: ".").last ?? ""))
                && p.dtype == .f32 && !concrete.nodes.contains(where: { n in [.conv1d, .conv2d, .convTranspose2d, .linear].contains(n.op) && p.name.hasSuffix(n.path + ".weight") }) {
                parameters[p.name] = Tensor(shape: p.shape, data: (0..<p.elementCount).map { _ in 0.5 + rng.uniform() })
            }
            var inputs: [String: Value] = [:]
            for (name, v) in concrete.inputs {
                let shape = concrete.type(v).shape.map { $0.constant ?? 1 }
                inputs[name] = concrete.type(v).dtype == .i32
                    ? .ids(IntTensor(shape: shape, data: (0..<shape.reduce(1, *)).map { Int32($0 % 50) }))
                    : .float(Tensor(shape: shape, data: rng.normal(count: shape.reduce(1, *))))
            }
            let reference = try Executor(graph: concrete, parameters: parameters).run(inputs, seed: 1)
            let optimized = try Optimizer.optimize(concrete).graph
            for threads in [1, 2] {
                let outputs = try ExecutionPlan(graph: optimized, parameters: parameters, threads: threads).run(inputs, seed: 1)
                for (name, expected) in reference {
                    let e = expected.tensor, a = try #require(outputs[name]).tensor
                    let scale = max(e.data.map { abs(Double($0)) }.max() ?? 0, 1e-30)
                    let error = zip(a.data, e.data).map { abs(Double($0) - Double($1)) }.max() ?? 0
                    #expect(a.shape == e.shape && error / scale < 1e-4,
                            "\(path) \(graph.name).\(name) on \(threads) threads: relative error \(error / scale)")
                }
            }
        }
    }

    @Test(arguments: ["Specs/resnet20-cifar.yaml", "Specs/edsr-baseline-x2.yaml", "Specs/dcgan-64.yaml"])
    func optimizedGolden(_ path: String) throws {
        let text = try Pipeline.load(path: Repo.url(path).path, network: nil, dims: nil).optimized(rewriteLimit: nil)
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        expectGolden(text, "Tests/StrataTests/Goldens/optimized/\(name).txt")
    }
}

/// The execution plan: kernels chosen, buffers placed, plans built once per set of dims.
@Suite struct PlanTests {
    static func plan(_ yaml: String, dims: [String: Int] = ["N": 2]) throws -> ExecutionPlan {
        let (model, _) = try OptimizerTests.graph(yaml)
        let concrete = try #require(model.specialized(dims).networks.first)
        return try ExecutionPlan(graph: try Optimizer.optimize(concrete).graph, parameters: Initializers.initialize(concrete, seed: 0), threads: 1)
    }

    static let header = "strata: 1\nname: t\ndims:\n  N: {}\ninputs:\n  x: [N, 8, 16, 16]\n"

    @Test func convBatchNormReluIsOneKernel() throws {
        let plan = try Self.plan(Self.header + """
            layers:
              - conv2d: {out: 8, kernel: 3, padding: 1}
              - batch_norm
              - relu
            outputs:
              y: [N, 8, 16, 16]
            """)
        #expect(plan.kernelCount == 1)
        #expect(plan.steps.first?.summary.hasPrefix("gemm conv 3x3 direct [batch_norm folded") == true)
    }

    /// Channel blocks between convolutions with 16 output channels or
    /// more: through residuals and into a global pool (a residual
    /// network's whole body, on maps of any width), into a narrow layer
    /// that does not write blocks, or into a wide stride-1 layer that may
    /// not write them (8 output channels: its plain tile reads them); not
    /// for 20 channels flattened for a linear layer (a partial block), a
    /// residual the output of whose reader is not blocked, a network's
    /// output, nor for a linear layer on a 4-D value (its last axis). A
    /// convolution of its whole input is a linear layer, and reads them.
    @Test func channelBlocksOnlyWhereEveryReaderTakesThem() throws {
        let body = try Self.plan(Self.header + """
            layers:
              - conv2d: {out: 16, kernel: 3, padding: 1}
                name: a
              - conv2d: {out: 16, kernel: 3, padding: 1}
              - relu
              - conv2d: {out: 16, kernel: 3, padding: 1}
                name: b
              - add:
                from: [a, b]
              - relu
              - conv2d: {out: 32, kernel: 3, stride: 2, padding: 1}
              - global_avg_pool
              - linear: 10
            outputs:
              y: [N, 10]
            """)
        #expect(body.steps.map { $0.summary.contains("to blocks") } == [true, true, true, true, false, false],
                "\(body.steps.map(\.summary))")
        #expect(body.steps.map { $0.summary.contains("from blocks") } == [false, true, true, true, true, false],
                "\(body.steps.map(\.summary))")
        let whole = try Self.plan(Self.header + """
            layers:
              - conv2d: {out: 32, kernel: 3, stride: 2, padding: 1}
              - conv2d: {out: 1, kernel: 8}
              - sigmoid
            outputs:
              y: [N, 1, 1, 1]
            """)
        #expect(whole.steps.map(\.summary) == ["gemm conv 3x3 direct s2x2 channels in lanes, to blocks of 16 [shift/channel]",
                                                "gemv conv 8x8 of its whole input, from blocks of 16 [shift/channel, sigmoid]"])
        // A linear layer on a 4-D value acts on its last axis: it does not read blocks.
        let lastAxis = try Self.plan(Self.header + """
            layers:
              - conv2d: {out: 16, kernel: 3, padding: 1}
              - linear: 4
            outputs:
              y: [N, 16, 16, 4]
            """)
        #expect(lastAxis.steps.allSatisfy { !$0.summary.contains("blocks") }, "\(lastAxis.steps.map(\.summary))")
        let wide = try Self.plan(Self.header + """
            layers:
              - conv2d: {out: 16, kernel: 3, padding: 1}
              - conv2d: {out: 8, kernel: 3, padding: 1}
            outputs:
              y: [N, 8, 16, 16]
            """)
        #expect(wide.steps.map(\.summary) == ["gemm conv 3x3 direct channels in lanes, to blocks of 16 [shift/channel]",
                                               "gemm conv 3x3 direct, from blocks of 16 [shift/channel]"], "\(wide.steps.map(\.summary))")
        let chain = try Self.plan(Self.header + """
            layers:
              - conv2d: {out: 32, kernel: 3, stride: 2, padding: 1}
              - relu
              - conv2d: {out: 20, kernel: 3, padding: 1}
              - flatten
              - linear: 10
            outputs:
              y: [N, 10]
            """)
        #expect(chain.steps.map { $0.summary.contains("to blocks") } == [true, false, false, false])
        #expect(chain.steps.map { $0.summary.contains("from blocks") } == [false, true, false, false])
        let residual = try Self.plan(Self.header + """
            layers:
              - conv2d: {out: 32, kernel: 3, stride: 2, padding: 1}
                name: a
              - conv2d: {out: 32, kernel: 3, padding: 1}
                name: b
              - add:
                from: [a, b]
            outputs:
              y: [N, 32, 8, 8]
            """)
        #expect(residual.steps.allSatisfy { !$0.summary.contains("blocks") }, "\(residual.steps.map(\.summary))")
    }

    /// Winograd's lanes form where its values are blocked, its row form
    /// where they stay plain (between instance norms): the lanes form is
    /// chosen first, for the blocks it would gain, and gives way when the
    /// layout leaves it none.
    @Test func winogradFormFollowsTheLayout() throws {
        /// Three 32-channel 3x3 layers, `op` after each of the first two; the second layer's kernel.
        func middle(after op: String) throws -> String {
            let plan = try Self.plan(Self.header + """
                layers:
                  - conv2d: {out: 32, kernel: 3, padding: 1}
                  - \(op)
                  - conv2d: {out: 32, kernel: 3, padding: 1}
                  - \(op)
                  - conv2d: {out: 32, kernel: 3, padding: 1}
                outputs:
                  y: [N, 32, 16, 16]
                """)
            return plan.steps.first { $0.nodes.contains { $0.path == "2" } }?.summary ?? "\(plan.steps.map(\.summary))"
        }
        #expect(try middle(after: "relu")
                == "gemm conv 3x3 winograd F(2x2, 3x3) channels in lanes, from blocks of 16, to blocks of 16 [shift/channel, relu]")
        #expect(try middle(after: "instance_norm") == "gemm conv 3x3 winograd F(2x2, 3x3) [shift/channel]")
    }

    @Test func residualAddFusesIntoTheSecondConvInPlace() throws {
        let plan = try Self.plan(Self.header + """
            layers:
              - conv2d: {out: 8, kernel: 3, padding: 1}
                name: a
              - conv2d: {out: 8, kernel: 3, padding: 1}
              - relu
              - conv2d: {out: 8, kernel: 3, padding: 1}
                name: b
              - add:
                from: [a, b]
              - relu
            outputs:
              y: [N, 8, 16, 16]
            """)
        #expect(plan.kernelCount == 3)
        let last = try #require(plan.steps.last)
        #expect(last.summary.contains("+residual") && last.inPlace, "\(last.summary)")
    }

    @Test func arenaReusesMemoryAndAliasesReshapes() throws {
        let plan = try Self.plan(Self.header + """
            layers:
              - conv2d: {out: 8, kernel: 3, padding: 1}
              - tanh
              - max_pool2d: {kernel: 2}
              - conv2d: {out: 8, kernel: 3, padding: 1}
              - sigmoid
              - flatten
            outputs:
              y: [N, 512]
            """)
        #expect(plan.steps.map(\.kind) == [.fast, .fast, .fast, .alias])
        #expect(plan.arenaFloats < plan.naiveFloats)
        // The flatten's output is the memory of the conv that computes the sigmoid.
        #expect(plan.offsets[plan.graph.outputs[0].value.index] == plan.offsets[plan.steps[2].node.output.index])
    }

    /// A residual stream in channel blocks that ends at a layer that cannot
    /// read them (a max pool): the stream stays blocked, the pool reads its
    /// input unblocked first (maps of 20 x 18 pixels, transposed 16 at a
    /// time, the last 16 overlapping; of 3 x 3, float by float), and the
    /// result is the reference's. A stride-1 convolution that may not write
    /// blocks (EDSR's upsampling convolution, its pixel shuffle scattering
    /// its stores) reads them on the plain tile instead. Without the
    /// residual stream, the stream's last output has no reader that takes
    /// its blocks, and is not blocked.
    @Test func blockedStreamEndsThroughAnUnblockedInput() throws {
        func spec(residual: Bool, height: Int, width: Int, shuffle: Bool) -> String {
            "strata: 1\nname: t\ndims:\n  N: {}\ninputs:\n  x: [N, 3, \(height), \(width)]\nlayers:\n"
                + "  - conv2d: {out: 16, kernel: 3, padding: 1}\n    name: head\n  - conv2d: {out: 16, kernel: 3, padding: 1}\n  - relu\n"
                + "  - conv2d: {out: 16, kernel: 3, padding: 1}\n    name: body\n"
                + (residual ? "  - add:\n    from: [head, body]\n" : "")
                + (shuffle ? "  - conv2d: {out: 64, kernel: 3, padding: 1}\n  - pixel_shuffle: 2\noutputs:\n  y: [N, 16, \(2 * height), \(2 * width)]\n"
                    : "  - max_pool2d: 2\noutputs:\n  y: [N, 16, \(height / 2), \(width / 2)]\n")
        }
        for (height, width, shuffle) in [(20, 18, false), (3, 3, false), (20, 18, true)] {
            let (model, _) = try OptimizerTests.graph(spec(residual: true, height: height, width: width, shuffle: shuffle))
            let concrete = try #require(model.specialized(["N": 2]).networks.first)
            let parameters = Initializers.initialize(concrete, seed: 0)
            var rng = Random(seed: 5)
            let x = Value.float(Tensor(shape: [2, 3, height, width], data: rng.normal(count: 2 * 3 * height * width)))
            let expected = try #require(try Executor(graph: concrete, parameters: parameters).run(["x": x], seed: 0)["y"]).tensor
            for threads in [1, 2] {
                let plan = try ExecutionPlan(graph: try Optimizer.optimize(concrete).graph, parameters: parameters, threads: threads)
                let summaries = plan.steps.map(\.summary)
                #expect(summaries.map { $0.hasPrefix("unblock, then ") } == [false, false, false, !shuffle], "\(summaries)")
                #expect(summaries.map { $0.contains("to blocks") } == [true, true, true, false], "\(summaries)")
                #expect(summaries[3].contains("from blocks") == shuffle, "\(summaries)")
                let y = try #require(try plan.run(["x": x], seed: 0)["y"]).tensor
                #expect(y.shape == expected.shape && zip(y.data, expected.data).allSatisfy { abs($0 - $1) < 1e-4 }, "\(height)x\(width)")
            }
        }
        let plain = try PlanTests.plan(spec(residual: false, height: 20, width: 18, shuffle: false))
        #expect(plain.steps.map { $0.summary.contains("to blocks") } == [true, true, false, false], "\(plain.steps.map(\.summary))")
        #expect(plain.steps.allSatisfy { !$0.summary.contains("unblock") }, "\(plain.steps.map(\.summary))")
    }

    /// A generator's first layers: the transposed convolution of a 1x1
    /// input, a linear layer, places its outputs in channel blocks for the
    /// next transposed layer (32 channels, whole blocks; not 24), which
    /// writes blocks for the last (of one channel, reading them on the
    /// plain tile), and the result is the reference's.
    @Test func linearTransposedLayerWritesBlocks() throws {
        func spec(_ channels: Int) -> String {
            "strata: 1\nname: t\ndims:\n  N: {}\ninputs:\n  z: [N, 8, 1, 1]\nlayers:\n"
                + "  - conv_transpose2d: {out: \(channels), kernel: 4}\n  - batch_norm\n  - relu\n"
                + "  - conv_transpose2d: {out: 16, kernel: 4, stride: 2, padding: 1}\n  - relu\n"
                + "  - conv_transpose2d: {out: 1, kernel: 4, stride: 2, padding: 1}\noutputs:\n  y: [N, 1, 16, 16]\n"
        }
        for (channels, blocks) in [(32, true), (24, false)] {
            let (model, _) = try OptimizerTests.graph(spec(channels))
            let concrete = try #require(model.specialized(["N": 5]).networks.first)
            var parameters = Initializers.initialize(concrete, seed: 0)
            var rng = Random(seed: 6)
            // Statistics that leave about half of the relu's inputs positive, so that every layer's values reach the output.
            for p in concrete.parameters where p.name.hasSuffix("running_mean") || p.name.hasSuffix("running_var") {
                let offset: Float = p.name.hasSuffix("running_var") ? 0.5 : -0.5
                parameters[p.name] = Tensor(shape: p.shape, data: (0..<p.elementCount).map { _ in offset + rng.uniform() })
            }
            let z = Value.float(Tensor(shape: [5, 8, 1, 1], data: rng.normal(count: 40)))
            let expected = try #require(try Executor(graph: concrete, parameters: parameters).run(["z": z], seed: 0)["y"]).tensor
            let plan = try ExecutionPlan(graph: try Optimizer.optimize(concrete).graph, parameters: parameters, threads: 2)
            #expect(plan.steps.map { $0.summary.contains("to blocks") } == [blocks, true, false], "\(plan.steps.map(\.summary))")
            #expect(plan.steps[0].summary.hasPrefix("gemm conv_transpose 4x4 of a 1x1 input"), "\(plan.steps[0].summary)")
            let y = try #require(try plan.run(["z": z], seed: 0)["y"]).tensor
            let scale = expected.data.map { abs($0) }.max() ?? 1
            #expect(zip(y.data, expected.data).allSatisfy { abs($0 - $1) <= 1e-5 * scale }, "\(channels) channels")
        }
    }

    /// A linear layer and the layer after it, with no activation between
    /// (through a reshape or not): one linear kernel from the first's
    /// input to the second's output whose result is the reference's, on
    /// random sizes, for a transposed convolution (a VAE decoder's), a
    /// convolution with a batch norm folded into it and a per-channel
    /// prelu, and a linear layer. An activation between them, a second
    /// reader, a composed map larger than the two, or a linear layer on
    /// more than two axes keep two steps.
    @Test func linearComposedWithTheLayerAfterIt() throws {
        var rng = Random(seed: 11)
        func size(_ low: Int, _ high: Int) -> Int { low + Int(rng.uniform() * Float(high - low + 1)) % (high - low + 1) }
        func check(_ yaml: String, input: [Int], composed: Bool, batchNorm: Bool = false) throws {
            let (model, _) = try OptimizerTests.graph(yaml)
            let concrete = try #require(model.specialized(["N": input[0]]).networks.first)
            var parameters = Initializers.initialize(concrete, seed: 1)
            // Statistics, scales and slopes of their own per channel.
            for p in concrete.parameters where batchNorm && p.shape.count == 1 && !p.name.hasSuffix("bias") {
                let offset: Float = p.name.hasSuffix("running_mean") ? -0.5 : 0.5
                parameters[p.name] = Tensor(shape: p.shape, data: (0..<p.elementCount).map { _ in offset + rng.uniform() })
            }
            let z = Value.float(Tensor(shape: input, data: rng.normal(count: input.reduce(1, *))))
            let expected = try #require(try Executor(graph: concrete, parameters: parameters).run(["z": z], seed: 0)["y"]).tensor
            let plan = try ExecutionPlan(graph: try Optimizer.optimize(concrete).graph, parameters: parameters, threads: 2)
            let summaries = plan.steps.map(\.summary)
            #expect(summaries[0].contains("linear composed with the") == composed, "\(summaries)")
            let y = try #require(try plan.run(["z": z], seed: 0)["y"]).tensor
            let scale = expected.data.map { abs(Double($0)) }.max() ?? 1
            let error = zip(y.data, expected.data).map { abs(Double($0) - Double($1)) }.max() ?? 0
            #expect(y.shape == expected.shape && error / scale < 1e-5, "\(summaries): relative error \(error / scale)")
        }
        for _ in 0..<4 {
            let (n, k, c, h, o) = (size(1, 5), size(2, 24), size(4, 40), size(2, 7), size(1, 20))
            let header = "strata: 1\nname: t\ndims:\n  N: {}\ninputs:\n  z: [N, \(k)]\nlayers:\n"
            try check(header + "  - linear: \(c * h * h)\n  - reshape: [N, \(c), \(h), \(h)]\n"
                      + "  - conv_transpose2d: {out: \(o), kernel: 4, stride: 2, padding: 1}\n  - relu\n"
                      + "outputs:\n  y: [N, \(o), \(2 * h), \(2 * h)]\n", input: [n, k], composed: true)
            try check(header + "  - linear: {out: \(c * h * h), bias: false}\n  - reshape: [N, \(c), \(h), \(h)]\n"
                      + "  - conv2d: {out: \(o), kernel: 3, padding: 1, bias: false}\n  - batch_norm\n  - prelu\n"
                      + "outputs:\n  y: [N, \(o), \(h), \(h)]\n", input: [n, k], composed: true, batchNorm: true)
            try check(header + "  - linear: \(c * h)\n  - linear: \(o)\n  - sigmoid\noutputs:\n  y: [N, \(o)]\n",
                      input: [n, k], composed: k * o < (k + o) * c * h)
        }
        let header = "strata: 1\nname: t\ndims:\n  N: {}\ninputs:\n  z: [N, 20]\nlayers:\n"
        let transposed = "  - conv_transpose2d: {out: 32, kernel: 4, stride: 2, padding: 1}\noutputs:\n  y: [N, 32, 14, 14]\n"
        try check(header + "  - linear: 3136\n  - relu\n  - reshape: [N, 64, 7, 7]\n" + transposed, input: [2, 20], composed: false)
        try check(header + "  - linear: 3136\n    name: a\n  - reshape: [N, 64, 7, 7]\n"
                  + "  - conv_transpose2d: {out: 32, kernel: 4, stride: 2, padding: 1}\n    name: t\n"
                  + "outputs:\n  y: {from: t, shape: [N, 32, 14, 14]}\n  f: {from: a, shape: [N, 3136]}\n",
                  input: [2, 20], composed: false)
        try check(header + "  - linear: 8\n  - linear: 64\noutputs:\n  y: [N, 64]\n", input: [2, 20], composed: false)
        // A linear layer acts on the last axis: on [N, 4, 16] its channels are not along axis 1.
        try check(header + "  - linear: 64\n  - reshape: [N, 4, 16]\n  - linear: 8\noutputs:\n  y: [N, 4, 8]\n",
                  input: [2, 20], composed: false)
    }

    /// SRCNN's first two layers at 64 x 64: the 64-channel output (1 MB per
    /// image) stays in each job's band, so it gets no arena slot, and the
    /// result is the reference's. With a second reader (a residual), or
    /// smaller, it is stored as usual.
    @Test func largeLayerAndItsOneByOneRunBandByBand() throws {
        func spec(_ size: Int, residual: Bool) -> String {
            "strata: 1\nname: t\ndims:\n  N: {}\ninputs:\n  x: [N, 1, \(size), \(size)]\nlayers:\n"
                + "  - conv2d: {out: 64, kernel: 9, padding: 4}\n  - relu:\n    name: a\n  - conv2d: {out: 64, kernel: 1}\n    name: b\n"
                + (residual ? "  - add:\n    from: [a, b]\n" : "") + "outputs:\n  y: [N, 64, \(size), \(size)]\n"
        }
        let (model, _) = try OptimizerTests.graph(spec(64, residual: false))
        let concrete = try #require(model.specialized(["N": 2]).networks.first)
        let parameters = Initializers.initialize(concrete, seed: 0)
        var rng = Random(seed: 2)
        let x = Value.float(Tensor(shape: [2, 1, 64, 64], data: rng.normal(count: 2 * 64 * 64)))
        let expected = try #require(try Executor(graph: concrete, parameters: parameters).run(["x": x], seed: 0)["y"]).tensor
        for threads in [1, 2] {
            let plan = try ExecutionPlan(graph: try Optimizer.optimize(concrete).graph, parameters: parameters, threads: threads)
            let step = try #require(plan.steps.first)
            #expect(plan.steps.count == 1 && step.chained != nil && plan.offsets[step.node.output.index] == nil)
            #expect(step.summary.contains("; then, band by band, gemm conv 1x1"), "\(step.summary)")
            let y = try #require(try plan.run(["x": x], seed: 0)["y"]).tensor
            let scale = expected.data.map { abs(Double($0)) }.max() ?? 1
            let error = zip(y.data, expected.data).map { abs(Double($0) - Double($1)) }.max() ?? 0
            #expect(y.shape == expected.shape && error / scale < 1e-4, "\(threads) threads: relative error \(error / scale)")
        }
        #expect(try PlanTests.plan(spec(64, residual: true)).steps.count == 2)
        #expect(try PlanTests.plan(spec(48, residual: false)).steps.count == 2)
    }

    @Test func plansAreBuiltOncePerSetOfDims() throws {
        let model = try Pipeline.load(path: Repo.url("Specs/lenet5.yaml").path, network: nil, dims: nil).model
        let graph = try #require(model.networks.first)
        let cache = PlanCache(model: model, network: graph.name, parameters: Initializers.initialize(graph, seed: 0), threads: 1)
        let a = try cache.plan(for: ["N": 1]), b = try cache.plan(for: ["N": 1])
        #expect(a === b && cache.built == 1)
        _ = try cache.plan(for: ["N": 3])
        #expect(cache.built == 2)
    }

    @Test(arguments: ["Specs/resnet20-cifar.yaml", "Specs/edsr-baseline-x2.yaml", "Specs/dcgan-64.yaml", "Specs/vae-mnist.yaml"])
    func planGolden(_ path: String) throws {
        let dims = path.contains("edsr") ? "N=1,H=32,W=32" : "N=1"
        let text = try Pipeline.load(path: Repo.url(path).path, network: nil, dims: dims).plan(threads: 1)
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        expectGolden(text, "Tests/StrataTests/Goldens/plan/\(name).txt")
    }
}
