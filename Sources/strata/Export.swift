import ArgumentParser
import StrataDriver

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a spec as PyTorch source.",
        discussion: """
            --format pytorch writes a readable Python module: one nn.Module per network whose state_dict names are \
            the spec's parameter names, so the same safetensors file loads into it with load_state_dict(strict=True); \
            with several networks, a Model module holds them all under their names.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case pytorch
    }

    @Argument(help: "The spec file.")
    var spec: String

    @Option(help: "The format: pytorch.")
    var format: Format

    @Option(name: .shortAndLong, help: "Write to this file instead of standard output.")
    var output: String?

    @Option(help: "Only this network.")
    var network: String?

    func run() throws {
        let source = try Failures.reporting { try Exporter.pytorch(spec: spec, network: network) }
        try write(source, to: output)
    }
}
