import Foundation
import StrataDriver
import StrataExport
import StrataIR
import StrataKernels
import Testing

/// The structure of exported graphs, against goldens: ONNX nodes with their
/// attributes, initializers and symbolic shapes, and the PyTorch source.
/// (scripts/check-export.py checks the numbers under ONNX Runtime and PyTorch.)
@Suite struct ExportTests {
    static func model(_ spec: String) throws -> CheckedModel {
        try Pipeline.load(path: Repo.url("Specs/\(spec).yaml").path, network: nil, dims: nil).model
    }

    /// A readable listing of an ONNX model's structure (weights left out).
    static func structure(_ data: Data) throws -> String {
        let m = try Onnx_ModelProto(serializedBytes: data)
        func shape(_ v: Onnx_ValueInfoProto) -> String {
            "[" + v.type.tensorType.shape.dim.map { $0.dimParam.isEmpty ? String($0.dimValue) : $0.dimParam }.joined(separator: ", ") + "]"
        }
        func attribute(_ a: Onnx_AttributeProto) -> String {
            switch a.type {
            case .int: return "\(a.name)=\(a.i)"
            case .ints: return "\(a.name)=\(a.ints)"
            case .float: return "\(a.name)=\(a.f)"
            case .string: return "\(a.name)=\(String(decoding: a.s, as: UTF8.self))"
            default: return "\(a.name)=?"
            }
        }
        var out = "ir_version \(m.irVersion), opset \(m.opsetImport.map { "\($0.domain.isEmpty ? "ai.onnx" : $0.domain) \($0.version)" }.joined(separator: ", ")), producer \(m.producerName)\n"
        out += "graph \(m.graph.name)\n"
        for i in m.graph.input { out += "  input \(i.name) \(shape(i))\n" }
        for t in m.graph.initializer { out += "  initializer \(t.name) \(t.dims)\n" }
        for n in m.graph.node {
            out += "  \(n.output.joined(separator: ", ")) = \(n.opType)(\(n.input.joined(separator: ", ")))"
            out += n.attribute.isEmpty ? "\n" : " {\(n.attribute.map(attribute).joined(separator: ", "))}\n"
        }
        for o in m.graph.output { out += "  output \(o.name) \(shape(o))\n" }
        return out
    }

    @Test(arguments: [("lenet5", "lenet5"), ("dcgan-64", "generator"), ("text-cnn", "text-cnn")])
    func onnxStructure(_ spec: String, _ network: String) throws {
        let model = try Self.model(spec)
        let graph = try #require(model.network(network))
        let data = try ONNXExporter.export(graph, scope: model.scope, weights: [:], seed: 0, producer: "strata test")
        expectGolden(try Self.structure(data), "Tests/StrataTests/Goldens/export/\(spec).\(network).onnx.txt")
    }

    @Test(arguments: ["vae-mnist", "edsr-baseline-x2"])
    func pytorchSource(_ spec: String) throws {
        let source = try Exporter.pytorch(spec: Repo.url("Specs/\(spec).yaml").path, network: nil)
        expectGolden(source, "Tests/StrataTests/Goldens/export/\(spec).py")
    }

    @Test func initializersCarryTheWeights() throws {
        let model = try Self.model("srcnn")
        let graph = try #require(model.networks.first)
        let weights = Dictionary(uniqueKeysWithValues: graph.parameters.map { p in
            (p.name, Tensor(shape: p.shape, data: (0..<p.elementCount).map { Float($0 % 7) - 3 }))
        })
        let m = try Onnx_ModelProto(serializedBytes: ONNXExporter.export(graph, scope: model.scope, weights: weights, seed: 0, producer: "t"))
        let bias = try #require(m.graph.initializer.first { $0.name == "4.bias" })
        let values = bias.rawData.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        #expect(values == weights["4.bias"]?.data)
    }
}
