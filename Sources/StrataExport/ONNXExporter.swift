import Foundation
import StrataIR
import StrataKernels
import StrataSymbolic
import SwiftProtobuf

/// A checked network as an ONNX model (opset 17): each op mapped to the
/// standard operators, weights as initializers named as in the spec, and
/// symbolic dims as `dim_param`s so one file serves every size.
public struct ONNXExporter {
    public static let opset: Int64 = 17

    let graph: Graph
    let scope: DimScope
    let weights: [String: Tensor]
    /// The seed of `reparameterize`'s RandomNormalLike.
    let seed: UInt64

    private var nodes: [Onnx_NodeProto] = []
    private var initializers: [Onnx_TensorProto] = []
    private var counter = 0

    public init(graph: Graph, scope: DimScope, weights: [String: Tensor], seed: UInt64) {
        self.graph = graph
        self.scope = scope
        self.weights = weights
        self.seed = seed
    }

    public static func export(_ graph: Graph, scope: DimScope, weights: [String: Tensor], seed: UInt64, producer: String) throws -> Data {
        var exporter = ONNXExporter(graph: graph, scope: scope, weights: weights, seed: seed)
        return try exporter.model(producer: producer).serializedData()
    }

    mutating func model(producer: String) throws -> Onnx_ModelProto {
        var names: [ValueID: String] = [:]
        for (name, v) in graph.inputs { names[v] = name }
        for node in graph.nodes {
            names[node.output] = "v" + node.path
            try lower(node, inputs: node.inputs.map { names[$0] ?? "" }, output: "v" + node.path)
        }
        var g = Onnx_GraphProto()
        g.name = graph.name
        for (name, v) in graph.outputs {
            add("Identity", [names[v] ?? ""], [name])
            g.output.append(valueInfo(name, graph.type(v)))
        }
        g.input = graph.inputs.map { valueInfo($0.name, graph.type($0.value)) }
        g.node = nodes
        g.initializer = initializers
        var m = Onnx_ModelProto()
        m.irVersion = 8
        m.producerName = producer
        m.graph = g
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = Self.opset
        m.opsetImport = [opset]
        return m
    }

    // MARK: building blocks

    private mutating func fresh(_ base: String) -> String {
        counter += 1
        return "\(base)_\(counter)"
    }

    @discardableResult
    private mutating func add(_ op: String, _ inputs: [String], _ outputs: [String], _ attributes: [Onnx_AttributeProto] = []) -> String {
        var n = Onnx_NodeProto()
        n.opType = op
        n.name = fresh(op)
        n.input = inputs
        n.output = outputs
        n.attribute = attributes
        nodes.append(n)
        return outputs[0]
    }

    /// A node with a fresh output name.
    private mutating func apply(_ op: String, _ inputs: [String], _ attributes: [Onnx_AttributeProto] = []) -> String {
        add(op, inputs, [fresh(op.lowercased())], attributes)
    }

    private mutating func constant(_ name: String, _ shape: [Int], _ values: [Float]) -> String {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = shape.map(Int64.init)
        t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        t.rawData = values.withUnsafeBufferPointer { Data(buffer: $0) }
        initializers.append(t)
        return name
    }

    private mutating func int64s(_ base: String, _ values: [Int]) -> String {
        var t = Onnx_TensorProto()
        t.name = fresh(base)
        t.dims = [Int64(values.count)]
        t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        t.int64Data = values.map(Int64.init)
        initializers.append(t)
        return t.name
    }

    /// A parameter as an initializer under its spec name (zeros if absent).
    private mutating func parameter(_ node: Node, _ suffix: String, reshape: [Int]? = nil) -> String? {
        guard let p = node.parameters.first(where: { $0.name.hasSuffix("." + suffix) }) else { return nil }
        let data = weights[p.name]?.data ?? [Float](repeating: 0, count: p.elementCount)
        return constant(p.name, reshape ?? p.shape, data)
    }

    private mutating func filled(_ base: String, _ count: Int, _ value: Float) -> String {
        constant(fresh(base), [count], [Float](repeating: value, count: count))
    }

    private func valueInfo(_ name: String, _ t: TensorType) -> Onnx_ValueInfoProto {
        var shape = Onnx_TensorShapeProto()
        shape.dim = t.shape.map { p in
            var d = Onnx_TensorShapeProto.Dimension()
            if let c = p.constant { d.dimValue = Int64(c) } else { d.dimParam = scope.describe(p) }
            return d
        }
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = Int32((t.dtype == .i32 ? Onnx_TensorProto.DataType.int32 : .float).rawValue)
        tensor.shape = shape
        var type = Onnx_TypeProto()
        type.tensorType = tensor
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type = type
        return info
    }

    private func attr(_ name: String, _ type: Onnx_AttributeProto.AttributeType,
                      _ set: (inout Onnx_AttributeProto) -> Void) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = type
        set(&a)
        return a
    }

    private func attr(_ name: String, ints: [Int]) -> Onnx_AttributeProto { attr(name, .ints) { $0.ints = ints.map(Int64.init) } }
    private func attr(_ name: String, int: Int) -> Onnx_AttributeProto { attr(name, .int) { $0.i = Int64(int) } }
    private func attr(_ name: String, float: Double) -> Onnx_AttributeProto { attr(name, .float) { $0.f = Float(float) } }
    private func attr(_ name: String, string: String) -> Onnx_AttributeProto { attr(name, .string) { $0.s = Data(string.utf8) } }

    // MARK: the mapping of each op

    private mutating func lower(_ node: Node, inputs x: [String], output y: String) throws {
        let inType = graph.type(node.inputs[0])
        let rank = inType.rank
        switch node.op {
        case .conv1d, .conv2d:
            let pads = node.ints("pads") ?? []
            add("Conv", [x[0], parameter(node, "weight") ?? ""] + (parameter(node, "bias").map { [$0] } ?? []), [y], [
                attr("kernel_shape", ints: node.ints("kernel") ?? []), attr("strides", ints: node.ints("stride") ?? []),
                attr("pads", ints: pads), attr("dilations", ints: node.ints("dilation") ?? []), attr("group", int: node.int("groups") ?? 1),
            ])
        case .convTranspose2d:
            let p = node.ints("padding") ?? [0, 0]
            add("ConvTranspose", [x[0], parameter(node, "weight") ?? ""] + (parameter(node, "bias").map { [$0] } ?? []), [y], [
                attr("kernel_shape", ints: node.ints("kernel") ?? []), attr("strides", ints: node.ints("stride") ?? []),
                attr("pads", ints: p + p), attr("output_padding", ints: node.ints("output_padding") ?? []),
                attr("dilations", ints: node.ints("dilation") ?? []), attr("group", int: node.int("groups") ?? 1),
            ])
        case .linear:
            guard let w = node.parameters.first(where: { $0.name.hasSuffix(".weight") }) else { return }
            let (o, f) = (w.shape[0], w.shape[1])
            if rank == 2 {
                add("Gemm", [x[0], parameter(node, "weight") ?? ""] + (parameter(node, "bias").map { [$0] } ?? []), [y],
                    [attr("transB", int: 1)])
            } else {
                // MatMul takes the weight as [in, out]: store it transposed.
                let data = weights[w.name]?.data ?? [Float](repeating: 0, count: o * f)
                let transposed = (0..<(f * o)).map { data[($0 % o) * f + $0 / o] }
                let wt = constant(w.name, [f, o], transposed)
                if let b = parameter(node, "bias") {
                    add("Add", [apply("MatMul", [x[0], wt]), b], [y])
                } else {
                    add("MatMul", [x[0], wt], [y])
                }
            }
        case .embedding:
            add("Gather", [parameter(node, "weight") ?? "", x[0]], [y], [attr("axis", int: 0)])
        case .maxPool1d, .maxPool2d, .avgPool1d, .avgPool2d:
            let p = node.ints("padding") ?? []
            var attributes = [attr("kernel_shape", ints: node.ints("kernel") ?? []), attr("strides", ints: node.ints("stride") ?? []),
                              attr("pads", ints: p + p), attr("ceil_mode", int: node.bool("ceil_mode") == true ? 1 : 0)]
            let average = node.op == .avgPool1d || node.op == .avgPool2d
            if average { attributes.append(attr("count_include_pad", int: node.bool("count_include_pad") == false ? 0 : 1)) }
            add(average ? "AveragePool" : "MaxPool", [x[0]], [y], attributes)
        case .globalAvgPool, .globalMaxPool:
            let pooled = apply(node.op == .globalAvgPool ? "GlobalAveragePool" : "GlobalMaxPool", [x[0]])
            if node.bool("keepdims") == true { add("Identity", [pooled], [y]) } else { add("Flatten", [pooled], [y], [attr("axis", int: 1)]) }
        case .batchNorm:
            let c = inType.shape[1].constant ?? 1
            add("BatchNormalization", [x[0], parameter(node, "weight") ?? filled("ones", c, 1), parameter(node, "bias") ?? filled("zeros", c, 0),
                                       parameter(node, "running_mean") ?? "", parameter(node, "running_var") ?? ""], [y],
                [attr("epsilon", float: node.float("eps") ?? 1e-5)])
        case .instanceNorm:
            let c = inType.shape[1].constant ?? 1
            add("InstanceNormalization", [x[0], parameter(node, "weight") ?? filled("ones", c, 1), parameter(node, "bias") ?? filled("zeros", c, 0)],
                [y], [attr("epsilon", float: node.float("eps") ?? 1e-5)])
        case .groupNorm:
            // Normalize [N, G, rest] per group with InstanceNormalization, then apply the per-channel affine.
            let c = inType.shape[1].constant ?? 1, groups = node.int("groups") ?? 1
            let grouped = apply("Reshape", [x[0], int64s("groups", [0, groups, -1])])
            let normalized = apply("InstanceNormalization", [grouped, filled("ones", groups, 1), filled("zeros", groups, 0)],
                                   [attr("epsilon", float: node.float("eps") ?? 1e-5)])
            let back = apply("Reshape", [normalized, apply("Shape", [x[0]])])
            if node.bool("affine") == true {
                let tail = Array(repeating: 1, count: rank - 2)
                let scaled = apply("Mul", [back, parameter(node, "weight", reshape: [c] + tail) ?? ""])
                add("Add", [scaled, parameter(node, "bias", reshape: [c] + tail) ?? ""], [y])
            } else {
                add("Identity", [back], [y])
            }
        case .layerNorm:
            let f = inType.shape[rank - 1].constant ?? 1
            add("LayerNormalization", [x[0], parameter(node, "weight") ?? filled("ones", f, 1)] + [parameter(node, "bias") ?? filled("zeros", f, 0)],
                [y], [attr("axis", int: -1), attr("epsilon", float: node.float("eps") ?? 1e-5)])
        case .dropout:
            add("Identity", [x[0]], [y])
        case .relu: add("Relu", [x[0]], [y])
        case .sigmoid: add("Sigmoid", [x[0]], [y])
        case .tanh: add("Tanh", [x[0]], [y])
        case .silu: add("Mul", [x[0], apply("Sigmoid", [x[0]])], [y])
        case .elu: add("Elu", [x[0]], [y], [attr("alpha", float: node.float("alpha") ?? 1)])
        case .leakyRelu: add("LeakyRelu", [x[0]], [y], [attr("alpha", float: node.float("slope") ?? 0.01)])
        case .gelu:
            if node.choice("approximate") == "tanh" {
                // 0.5*x*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x^3)))
                let cube = apply("Mul", [x[0], apply("Mul", [x[0], x[0]])])
                let inner = apply("Add", [x[0], apply("Mul", [cube, constant(fresh("k"), [], [0.044715])])])
                let t = apply("Tanh", [apply("Mul", [inner, constant(fresh("k"), [], [Float((2 / Double.pi).squareRoot())])])])
                add("Mul", [apply("Mul", [x[0], constant(fresh("half"), [], [0.5])]), apply("Add", [t, constant(fresh("one"), [], [1])])], [y])
            } else {
                // 0.5*x*(1 + erf(x/sqrt(2)))
                let e = apply("Erf", [apply("Div", [x[0], constant(fresh("sqrt2"), [], [Float(2.0.squareRoot())])])])
                add("Mul", [apply("Mul", [x[0], constant(fresh("half"), [], [0.5])]), apply("Add", [e, constant(fresh("one"), [], [1])])], [y])
            }
        case .prelu:
            let slopes = node.parameters.first?.elementCount ?? 1
            let shape = slopes == 1 ? [1] : [slopes] + Array(repeating: 1, count: max(rank - 2, 0))
            add("PRelu", [x[0], parameter(node, "weight", reshape: shape) ?? ""], [y])
        case .softmax, .logSoftmax:
            add(node.op == .softmax ? "Softmax" : "LogSoftmax", [x[0]], [y], [attr("axis", int: node.int("axis") ?? -1)])
        case .flatten:
            let start = node.int("start") ?? 1
            let s = start < 0 ? start + rank : start
            add("Reshape", [x[0], int64s("shape", Array(repeating: 0, count: s) + [-1])], [y])
        case .reshape:
            add("Reshape", [x[0], try reshapeTarget(node, from: inType)], [y])
        case .permute:
            add("Transpose", [x[0]], [y], [attr("perm", ints: (node.ints("axes") ?? []).map { $0 < 0 ? $0 + rank : $0 })])
        case .concat:
            add("Concat", x, [y], [attr("axis", int: node.int("axis") ?? 1)])
        case .add:
            add("Sum", x, [y])
        case .mul:
            let partial = x.dropFirst().dropLast().reduce(x[0]) { acc, next in apply("Mul", [acc, next]) }
            add("Mul", [partial, x[x.count - 1]], [y])
        case .scale:
            add("Mul", [x[0], constant(fresh("factor"), [], [Float(node.float("factor") ?? 1)])], [y])
        case .pad:
            let a = node.ints("amount") ?? [0, 0, 0, 0]
            let mode = ["zeros": "constant", "reflect": "reflect", "replicate": "edge"][node.choice("mode") ?? "zeros"] ?? "constant"
            add("Pad", [x[0], int64s("pads", [0, 0, a[0], a[2], 0, 0, a[1], a[3]])], [y], [attr("mode", string: mode)])
        case .upsample:
            let s = node.ints("scale") ?? [2, 2]
            let bilinear = node.choice("mode") == "bilinear"
            let scales = constant(fresh("scales"), [4], [1, 1, Float(s[0]), Float(s[1])])
            var attributes = [attr("mode", string: bilinear ? "linear" : "nearest")]
            if bilinear {
                attributes.append(attr("coordinate_transformation_mode", string: node.bool("align_corners") == true ? "align_corners" : "pytorch_half_pixel"))
            } else {
                attributes += [attr("coordinate_transformation_mode", string: "asymmetric"), attr("nearest_mode", string: "floor")]
            }
            add("Resize", [x[0], "", scales], [y], attributes)
        case .pixelShuffle:
            add("DepthToSpace", [x[0]], [y], [attr("blocksize", int: node.int("factor") ?? 1), attr("mode", string: "CRD")])
        case .reparameterize:
            // eps from RandomNormalLike, seeded with the run's seed (as a float, as ONNX takes it).
            let eps = apply("RandomNormalLike", [x[0]], [attr("seed", float: Double(seed % (1 << 24)))])
            let std = apply("Exp", [apply("Mul", [x[1], constant(fresh("half"), [], [0.5])])])
            add("Add", [x[0], apply("Mul", [std, eps])], [y])
        }
    }

    /// Reshape's target shape: constants as they are, a dim at the same
    /// position as in the input copied (0), one other symbolic dim inferred (-1).
    private mutating func reshapeTarget(_ node: Node, from input: TensorType) throws -> String {
        guard case .shape(let target)? = node.attributes["shape"] else { return int64s("shape", []) }
        var values: [Int] = []
        var inferred = false
        for (i, d) in target.enumerated() {
            if let c = d.constant {
                values.append(c)
            } else if i < input.rank && input.shape[i] == d {
                values.append(0)
            } else if !inferred {
                values.append(-1)
                inferred = true
            } else {
                throw ExportError("reshape \(node.path) has two symbolic dimensions that ONNX's Reshape cannot express statically")
            }
        }
        return int64s("shape", values)
    }
}

public struct ExportError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
