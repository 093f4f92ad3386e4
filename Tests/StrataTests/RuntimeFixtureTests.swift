import Foundation
import StrataDiagnostics
import StrataDriver
import StrataIR
import StrataKernels
import StrataRuntime
import Testing

/// The reference runtime against PyTorch: every op over many attribute
/// combinations, and whole models with weights saved from torch.nn modules
/// (fixtures written by scripts/make-reference-fixtures.py).
@Suite struct RuntimeFixtureTests {
    struct Case: Decodable, CustomTestStringConvertible {
        let name: String
        let spec: String
        let tolerance: Double
        var testDescription: String { name }
    }

    static let cases: [Case] = (try? JSONDecoder().decode(
        [Case].self, from: Data(contentsOf: Repo.url("Tests/StrataTests/Fixtures/ops/cases.json")))) ?? []

    static let tensors: [String: SafeTensors.Element] =
        (try? SafeTensors.read(path: Repo.url("Tests/StrataTests/Fixtures/ops/tensors.safetensors").path)) ?? [:]

    /// max |actual - expected| over max(1, max |expected|): relative for
    /// large values, absolute near zero.
    static func error(_ actual: Tensor, _ expected: Tensor) -> Double {
        guard actual.shape == expected.shape else { return .infinity }
        let diff = zip(actual.data, expected.data).map { abs(Double($0) - Double($1)) }.max() ?? 0
        let scale = max(1, expected.data.map { abs(Double($0)) }.max() ?? 0)
        return diff / scale
    }

    static func value(_ e: SafeTensors.Element) -> Value {
        switch e {
        case .float(let t): return .float(t)
        case .integer(let shape, let values): return .ids(IntTensor(shape: shape, data: values.map { Int32(truncatingIfNeeded: $0) }))
        }
    }

    @Test func fixturesArePresent() {
        #expect(Self.cases.count >= 200)
        #expect(Set(Self.cases.map { $0.name.split(separator: "_")[0] }).count >= 20)
        let ops = Set(Op.allCases.map(\.name))
        let covered = Set(Self.cases.compactMap { c in ops.first { c.spec.contains("- \($0)") } })
        #expect(ops.subtracting(covered).subtracting(["reparameterize"]).isEmpty, "ops without a fixture: \(ops.subtracting(covered).sorted())")
    }

    @Test(arguments: cases.filter { $0.name != "reparameterize" })
    func opMatchesPyTorch(_ c: Case) throws {
        let (checked, diagnostics) = Pipeline.compile(SourceFile(path: "\(c.name).yaml", text: c.spec))
        let model = try #require(checked, "\(c.name): \(diagnostics.diagnostics.map(\.message))")
        let graph = try #require(model.networks.first)
        var parameters: [String: Tensor] = [:], inputs: [String: Value] = [:]
        for (key, element) in Self.tensors where key.hasPrefix(c.name + ".") {
            let rest = String(key.dropFirst(c.name.count + 1))
            if rest.hasPrefix("param."), case .float(let t) = element { parameters[String(rest.dropFirst(6))] = t }
            if rest.hasPrefix("in.") { inputs[String(rest.dropFirst(3))] = Self.value(element) }
        }
        guard case .float(let expected)? = Self.tensors["\(c.name).out.y"] else {
            Issue.record("\(c.name): no expected output")
            return
        }
        let outputs = try Executor(graph: graph, parameters: parameters).run(inputs, seed: 0)
        let actual = try #require(outputs["y"]).tensor
        #expect(actual.shape == expected.shape, "\(c.name): shape \(actual.shape) vs torch \(expected.shape)")
        #expect(Self.error(actual, expected) < c.tolerance, "\(c.name): error \(Self.error(actual, expected))")
    }

    @Test func reparameterizeMatchesPyTorch() throws {
        func tensor(_ key: String) throws -> Tensor {
            guard case .float(let t)? = Self.tensors[key] else { throw KernelError("no \(key)") }
            return t
        }
        let z = Elementwise.reparameterize(mu: try tensor("reparameterize.in.mu"), logvar: try tensor("reparameterize.in.logvar"),
                                           eps: try tensor("reparameterize.eps"))
        #expect(Self.error(z, try tensor("reparameterize.out.y")) < 1e-5)
    }

    static let models = [("lenet5", "lenet5"), ("dcgan-mnist", "generator"), ("dcgan-mnist", "discriminator"),
                         ("vae-mnist", "encoder"), ("vae-mnist", "decoder"), ("espcn-x3", "espcn-x3")]

    @Test(arguments: models)
    func modelMatchesPyTorch(_ spec: String, _ network: String) throws {
        let base = "Tests/StrataTests/Fixtures/models/\(spec)-\(network)"
        let model = try Pipeline.load(path: Repo.url("Specs/\(spec).yaml").path, network: nil, dims: nil).model
        let graph = try #require(model.network(network))
        let io = try SafeTensors.read(path: Repo.url(base + ".io.safetensors").path)
        var inputs: [String: Value] = [:]
        for (key, e) in io where key.hasPrefix("in.") { inputs[String(key.dropFirst(3))] = Self.value(e) }
        let binding = try DimBinder.bind(graph, scope: model.scope, inputs: inputs.mapValues(\.shape))
        let concrete = try #require(model.specialized(binding).network(network))
        let weights = try Weights.load([Weights.Source(Repo.url(base + ".weights.safetensors").path)], for: concrete,
                                       prefix: concrete.parameterPrefix, networks: model.networks.map(\.name))
        let outputs = try Executor(graph: concrete, parameters: weights).run(inputs, seed: 0)
        for (key, e) in io where key.hasPrefix("out.") {
            guard case .float(let expected) = e else { continue }
            let actual = try #require(outputs[String(key.dropFirst(4))]).tensor
            #expect(Self.error(actual, expected) < 1e-5, "\(spec).\(network) \(key): error \(Self.error(actual, expected))")
        }
    }
}
