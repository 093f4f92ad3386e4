import Foundation
import StrataExport
import StrataIR
import StrataKernels
import StrataRuntime

/// `strata compile --emit onnx` and `strata export --format pytorch`.
public enum Exporter {
    /// Writes one ONNX file per network (or only `network`): `output` itself
    /// for one network, `<stem>.<network>.onnx` for several. Returns a report.
    public static func onnx(spec: String, network: String?, output: String, weights: [String], seed: UInt64) throws -> String {
        try RunFailure.translating {
            let model = try Pipeline.load(path: spec, network: nil, dims: nil).model
            let graphs = try network.map { [try Runner.choose(model, $0)] } ?? model.networks
            var report = ""
            for graph in graphs {
                let values = weights.isEmpty ? Initializers.initialize(graph, seed: seed)
                    : try Weights.load(weights.map(Weights.Source.init), for: graph, prefix: graph.parameterPrefix,
                                       networks: model.networks.map(\.name))
                let data: Data
                do {
                    data = try ONNXExporter.export(graph, scope: model.scope, weights: values, seed: seed,
                                                   producer: "strata \(Pipeline.version)")
                } catch let e as ExportError {
                    throw InputError("cannot export \(graph.name) to ONNX: \(e.message)")
                }
                let path = graphs.count == 1 ? output : (output as NSString).deletingPathExtension + ".\(graph.name).onnx"
                guard FileManager.default.createFile(atPath: path, contents: data) else { throw UsageError("cannot write \(path)") }
                report += "wrote \(path) (network \(graph.name), opset \(ONNXExporter.opset), \(graph.nodes.count) layers)\n"
            }
            return report
        }
    }

    /// The PyTorch module source for the spec (or one network of it).
    public static func pytorch(spec: String, network: String?) throws -> String {
        let model = try Pipeline.load(path: spec, network: nil, dims: nil).model
        let graphs = try network.map { [try Runner.choose(model, $0)] } ?? model.networks
        let selected = CheckedModel(name: model.name, scope: model.scope, networks: graphs, trainBindings: model.trainBindings)
        let prefixed = graphs.count > 1 || !(graphs.first?.parameterPrefix.isEmpty ?? true)
        return PyTorchExporter.export(selected, spec: (spec as NSString).lastPathComponent, prefixed: prefixed)
    }
}
