import ArgumentParser
import StrataDriver

struct Compile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compile a spec and print a stage of the pipeline.",
        discussion: "--emit ir prints the checked layer graph: blocks expanded, every value typed, every parameter named."
    )

    enum Stage: String, ExpressibleByArgument, CaseIterable {
        case ir
    }

    @OptionGroup var options: SpecOptions

    @Option(help: "What to print: ir (the checked graph).")
    var emit: Stage = .ir

    @Option(name: .shortAndLong, help: "Write to this file instead of standard output.")
    var output: String?

    func run() throws {
        let loaded = try options.load()
        switch emit {
        case .ir: try write(loaded.ir, to: output)
        }
    }
}
