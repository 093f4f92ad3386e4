import Foundation
import StrataDriver
import StrataIR
import Testing

/// Every spec in the model library: its summary against a golden file, and
/// its parameters against the same model built in PyTorch
/// (Tests/StrataTests/Fixtures/torch-parameters.json, written by
/// scripts/torch-reference-models.py).
@Suite struct ModelLibraryTests {
    static let specs = Repo.files(under: "Specs", extensions: ["yaml"])

    static func load(_ path: String, dims: String? = nil) throws -> LoadedModel {
        try Pipeline.load(path: Repo.url(path).path, network: nil, dims: dims)
    }

    static func name(_ path: String) -> String { ((path as NSString).lastPathComponent as NSString).deletingPathExtension }

    @Test(arguments: specs)
    func summaryGolden(_ path: String) throws {
        let loaded = try Self.load(path)
        #expect(loaded.warnings.isEmpty)
        expectGolden(loaded.summaryText, "Tests/StrataTests/Goldens/summary/\(Self.name(path)).txt")
    }

    @Test(arguments: specs)
    func parametersMatchPyTorch(_ path: String) throws {
        let data = try Data(contentsOf: Repo.url("Tests/StrataTests/Fixtures/torch-parameters.json"))
        let fixture = try #require(try JSONSerialization.jsonObject(with: data) as? [String: [String: [String: Any]]])
        let model = try Self.load(path).model
        let expected = try #require(fixture[model.name], "no PyTorch reference for \(model.name)")
        #expect(Set(expected.keys) == Set(model.networks.map(\.name)))
        for graph in model.networks {
            let reference = try #require(expected[graph.name])
            let ours = graph.parameters
            #expect(reference["trainable"] as? Int == ours.filter(\.trainable).reduce(0) { $0 + $1.elementCount }, "\(model.name).\(graph.name) trainable")
            #expect(reference["buffers"] as? Int == ours.filter { !$0.trainable }.reduce(0) { $0 + $1.elementCount }, "\(model.name).\(graph.name) buffers")
            let stateDict = try #require(reference["state_dict"] as? [String: [Int]])
            let mine = Dictionary(uniqueKeysWithValues: ours.map { ($0.name, $0.shape) })
            #expect(Set(mine.keys) == Set(stateDict.keys), "\(model.name).\(graph.name): names differ: only ours \(Set(mine.keys).subtracting(stateDict.keys).sorted().prefix(5)), only torch \(Set(stateDict.keys).subtracting(mine.keys).sorted().prefix(5))")
            for (name, shape) in stateDict where mine[name] != nil {
                #expect(mine[name] == shape, "\(name): ours \(mine[name] ?? []), torch \(shape)")
            }
        }
    }

    @Test(arguments: ["Specs/dcgan-64.yaml", "Specs/edsr-baseline-x2.yaml", "Specs/text-cnn.yaml", "Specs/vae-mnist.yaml"])
    func irGolden(_ path: String) throws {
        expectGolden(try Self.load(path).ir, "Tests/StrataTests/Goldens/ir/\(Self.name(path)).txt")
    }

    @Test func summaryWithDims() throws {
        let loaded = try Self.load("Specs/edsr-baseline-x2.yaml", dims: "N=1,H=64,W=48")
        expectGolden(loaded.summaryText, "Tests/StrataTests/Goldens/summary/edsr-baseline-x2.N1-H64-W48.txt")
        expectGolden(loaded.summaryJSON, "Tests/StrataTests/Goldens/summary/edsr-baseline-x2.N1-H64-W48.json")
    }

    @Test func dimsMustRespectConstraints() throws {
        #expect(throws: InputError.self) { try Self.load("Specs/fast-style-transfer.yaml", dims: "N=1,H=30,W=32") }
        #expect(throws: UsageError.self) { try Self.load("Specs/lenet5.yaml", dims: "Q=3") }
        #expect(throws: UsageError.self) { try Self.load("Specs/lenet5.yaml", dims: "N=one") }
    }
}
