import Foundation
import StrataIR
import StrataKernels
import StrataOptimize
import StrataRuntime
import StrataSymbolic

/// `strata run` and `strata init`: a checked network on the reference
/// runtime, with its inputs from files or random sources and its outputs to
/// files or a short print.
public enum Runner {
    public struct Request: Sendable {
        public var spec: String
        public var network: String?
        public var weights: [String] = []
        public var seed: UInt64 = 0
        public var inputs: [String] = []
        public var outputs: [String] = []
        public var dims: String?
        /// Run the checked graph as written on the reference kernels, without rewrites.
        public var reference = false
        public var threads = 1

        public init(spec: String) { self.spec = spec }
    }

    /// Runs the network; returns what the `-` outputs print.
    public static func run(_ r: Request) throws -> String {
        try RunFailure.translating { try execute(r) }
    }

    private static func execute(_ r: Request) throws -> String {
        let loaded = try Pipeline.load(path: r.spec, network: nil, dims: nil)
        let model = loaded.model
        let graph = try choose(model, r.network)
        let dims = try r.dims.map(DimsBinding.parse)
        let fixed = try dims.map { try $0.apply(to: model) }
        let fixedGraph = fixed?.network(graph.name) ?? graph

        var values: [String: Value] = [:]
        for argument in r.inputs {
            let (name, source) = try split(argument, what: "--input", example: "x=photo.png")
            guard let index = graph.inputs.firstIndex(where: { $0.name == name }) else {
                throw UsageError("--input names '\(name)', which is not an input of \(graph.name); its inputs: \(graph.inputs.map(\.name).joined(separator: ", "))")
            }
            let type = fixedGraph.type(fixedGraph.inputs[index].value)
            values[name] = try Sources.load(source, input: name, type: type, scope: model.scope, seed: r.seed)
        }
        let missing = graph.inputs.map(\.name).filter { values[$0] == nil }
        if !missing.isEmpty {
            throw UsageError("no value for input \(missing.map { "'\($0)'" }.joined(separator: ", ")) of \(graph.name): give --input \(missing[0])=FILE.npy (or FILE.png, normal, uniform, zeros)")
        }

        // Checked before the network runs, which can take seconds.
        for argument in r.outputs {
            let name = try split(argument, what: "--output", example: "y=out.npy").0
            if !graph.outputs.contains(where: { $0.name == name }) { throw unknownOutput(name, graph) }
        }

        let binding = try DimBinder.bind(graph, scope: model.scope, inputs: values.mapValues(\.shape))
        if let dims {
            for (name, v) in dims.values where model.scope.names.contains(name) {
                let bound = (binding[name] ?? 0) * model.scope.constraint(name).multipleOf
                if binding[name] != nil && bound != v {
                    throw InputError("--dims \(name)=\(v), but the inputs make \(name) = \(bound)")
                }
            }
        }
        guard let concrete = model.specialized(binding).network(graph.name) else { throw UsageError("no network \(graph.name)") }
        // Loaded when a consumer takes them, so the plan, which packs them, is the last to hold them.
        let parameters = {
            r.weights.isEmpty
                ? Initializers.initialize(concrete, seed: r.seed)
                : try Weights.load(r.weights.map(Weights.Source.init), for: concrete, prefix: concrete.parameterPrefix,
                                   networks: model.networks.map(\.name))
        }
        for (name, v) in graph.inputs where concrete.type(v).dtype == .i32 {
            if case .float = values[name] { throw InputError("input '\(name)' takes i32 token ids; give an integer .npy file") }
        }
        let results: [String: Value]
        if r.reference {
            results = try Executor(graph: concrete, parameters: parameters()).run(values, seed: r.seed)
        } else {
            try requireConcrete(concrete, verb: "planning")
            results = try ExecutionPlan(graph: Optimizer.optimize(concrete).graph, parameters: parameters(), threads: r.threads)
                .run(values, seed: r.seed)
        }

        var printed = ""
        let requests = r.outputs.isEmpty ? concrete.outputs.map { "\($0.name)=-" } : r.outputs
        for argument in requests {
            let (name, destination) = try split(argument, what: "--output", example: "y=out.npy")
            guard let value = results[name], let v = concrete.outputs.first(where: { $0.name == name })?.value else {
                throw unknownOutput(name, graph)
            }
            let producer = concrete.nodes.first { $0.output == v }
            if destination == "-" {
                let scores: Printer.Scores? = !isClassifier(model, concrete, v) ? nil
                    : producer?.op == .softmax ? .probabilities : producer?.op == .logSoftmax ? .logProbabilities : .logits
                printed += Printer.describe(name, value.tensor, classifier: scores)
            } else if destination.lowercased().hasSuffix(".npy") {
                try NPY.write(value.tensor, to: destination)
            } else if destination.lowercased().hasSuffix(".png") {
                try Sources.writeImage(value.tensor, to: destination, output: name, tanh: producer?.op == .tanh)
            } else {
                throw UsageError("--output \(argument): the destination must be FILE.npy, FILE.png or - (a short print)")
            }
        }
        return printed
    }

    /// Writes freshly initialised parameters of every network; returns a one-line report.
    public static func initialize(spec: String, output: String, seed: UInt64) throws -> String {
        try RunFailure.translating { try writeInitial(spec: spec, output: output, seed: seed) }
    }

    private static func writeInitial(spec: String, output: String, seed: UInt64) throws -> String {
        let model = try Pipeline.load(path: spec, network: nil, dims: nil).model
        var values: [String: Tensor] = [:]
        for g in model.networks { values.merge(Initializers.initialize(g, seed: seed)) { a, _ in a } }
        let elements = Weights.elements(model.networks, values: values)
        try SafeTensors.write(elements, to: output)
        let count = model.networks.flatMap(\.parameters).filter(\.trainable).reduce(0) { $0 + $1.elementCount }
        return "wrote \(elements.count) tensors (\(Summary.grouped(count)) trainable parameters, seed \(seed)) to \(output)\n"
    }

    static func choose(_ model: CheckedModel, _ name: String?) throws -> Graph {
        if let name {
            guard let g = model.network(name) else {
                throw UsageError("\(model.name) has no network '\(name)'; its networks: \(model.networks.map(\.name).joined(separator: ", "))")
            }
            return g
        }
        guard model.networks.count == 1, let only = model.networks.first else {
            throw UsageError("\(model.name) has \(model.networks.count) networks (\(model.networks.map(\.name).joined(separator: ", "))); choose one with --network")
        }
        return only
    }

    static func unknownOutput(_ name: String, _ graph: Graph) -> UsageError {
        UsageError("--output names '\(name)', which is not an output of \(graph.name); its outputs: \(graph.outputs.map(\.name).joined(separator: ", "))")
    }

    static func split(_ argument: String, what: String, example: String) throws -> (String, String) {
        guard let eq = argument.firstIndex(of: "="), eq != argument.startIndex else {
            throw UsageError("\(what) takes NAME=VALUE, as in \(what) \(example); found '\(argument)'")
        }
        return (String(argument[..<eq]), String(argument[argument.index(after: eq)...]))
    }

    /// Logits of [N, K] from a network trained as a classifier, or from any
    /// network ending in linear or softmax when the spec says no objective.
    static func isClassifier(_ model: CheckedModel, _ graph: Graph, _ output: ValueID) -> Bool {
        let t = graph.type(output)
        guard t.rank == 2, (t.shape[1].constant ?? 0) >= 2 else { return false }
        if model.trainBindings.isEmpty {
            let op = graph.nodes.first { $0.output == output }?.op
            return op == .linear || op == .softmax || op == .logSoftmax
        }
        return model.trainBindings["network"] == graph.name && graph.nodes.last?.output == output
    }
}

/// A failure of the runtime, for the command line: `isInput` when the data
/// given is wrong (exit 1), else a file that cannot be read or written (exit 2).
public struct RunFailure: Error, Sendable {
    public let message: String
    public let isInput: Bool

    static func translating<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as RuntimeError {
            throw RunFailure(message: e.message, isInput: e.kind == .input)
        }
    }
}
