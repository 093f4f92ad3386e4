import ArgumentParser
import StrataDriver

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a network of a spec on its execution plan (--reference: on the reference kernels).",
        discussion: """
            SOURCE: FILE.npy | FILE.png[:range=A,B] | normal | uniform | zeros (the last three need --dims). \
            DEST: FILE.npy | FILE.png (one image, or a grid for a batch) | - (a short print; the top-5 for a classifier). \
            Without --weights, parameters are initialised from --seed the way PyTorch's default initialisers do.
            """
    )

    @Argument(help: "The spec file.")
    var spec: String

    @Option(help: "The network to run (needed when the spec has several).")
    var network: String?

    @Option(help: ArgumentHelp("Weights: a safetensors file with full names, or NET=FILE with one network's names.", valueName: "FILE|NET=FILE"))
    var weights: [String] = []

    @Option(help: "Seed for initialisation, random inputs and the noise of reparameterize.")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("An input and where it comes from.", valueName: "NAME=SOURCE"))
    var input: [String] = []

    @Option(help: ArgumentHelp("An output and where it goes (default: every output to -).", valueName: "NAME=DEST"))
    var output: [String] = []

    @Option(help: ArgumentHelp("Fix dims to values, as in N=1,H=64.", valueName: "NAME=VALUE,..."))
    var dims: String?

    @Option(help: "Threads for the fast kernels.")
    var threads: Int = 1

    @Flag(help: "Run the checked graph as written on the reference kernels, without the optimizer's rewrites.")
    var reference = false

    func validate() throws {
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        var request = Runner.Request(spec: spec)
        request.network = network
        request.weights = weights
        request.seed = seed
        request.inputs = input
        request.outputs = output
        request.dims = dims
        request.reference = reference
        request.threads = threads
        print(try Failures.reporting { try Runner.run(request) }, terminator: "")
    }
}

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write freshly initialised parameters of every network of a spec.",
        discussion: "The names are the spec's parameter names, as PyTorch's state_dict would have them."
    )

    @Argument(help: "The spec file.")
    var spec: String

    @Option(name: .shortAndLong, help: "The safetensors file to write.")
    var output: String

    @Option(help: "Seed for the initialisers.")
    var seed: UInt64 = 0

    func run() throws {
        print(try Failures.reporting { try Runner.initialize(spec: spec, output: output, seed: seed) }, terminator: "")
    }
}
