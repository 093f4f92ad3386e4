import ArgumentParser
import StrataDriver

struct Compile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compile a spec and print a stage of the pipeline.",
        discussion: """
            --emit ir prints the checked layer graph: blocks expanded, every value typed, every parameter named.             --emit onnx writes an ONNX model (opset 17) per network to -o, with --weights or freshly initialised             parameters (from --seed) as initializers and the dims as symbolic dimensions.
            """
    )

    enum Stage: String, ExpressibleByArgument, CaseIterable {
        case ir, optimized, plan, onnx
    }

    @OptionGroup var options: SpecOptions

    @Option(help: "What to produce: ir (the checked graph), optimized (after the rewrites, with a fusion report), plan (kernels, buffers and arena; needs every dim fixed with --dims) or onnx (a model file; needs -o).")
    var emit: Stage = .ir

    @Option(help: ArgumentHelp("Weights for --emit onnx (default: initialised from --seed).", valueName: "FILE|NET=FILE"))
    var weights: [String] = []

    @Option(help: "Seed for initialisation and for reparameterize's noise in --emit onnx.")
    var seed: UInt64 = 0

    @Option(help: "With --emit optimized: stop after this many rewrites (to bisect a miscompile).")
    var rewriteLimit: Int?

    @Option(help: "With --emit plan: the threads the plan runs on.")
    var threads: Int = 1

    @Option(name: .shortAndLong, help: "Write to this file instead of standard output.")
    var output: String?

    func run() throws {
        switch emit {
        case .ir:
            try write(try options.load().ir, to: output)
        case .optimized:
            let loaded = try options.load()
            try write(try Failures.reporting { try loaded.optimized(rewriteLimit: rewriteLimit) }, to: output)
        case .plan:
            let loaded = try options.load()
            try write(try Failures.reporting { try loaded.plan(threads: threads) }, to: output)
        case .onnx:
            guard let output else { throw ValidationError("--emit onnx writes a binary file: give it with -o model.onnx") }
            if options.dims != nil { throw ValidationError("--emit onnx keeps the dims symbolic; drop --dims") }
            print(try Failures.reporting {
                try Exporter.onnx(spec: options.spec, network: options.network, output: output, weights: weights, seed: seed)
            }, terminator: "")
        }
    }
}
