import ArgumentParser
import StrataDriver

struct Strata: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strata",
        abstract: "Compile, shape-check and run declarative model specs.",
        version: Pipeline.version,
        subcommands: [Check.self, SummaryCommand.self, Compile.self, Run.self, Init.self, Export.self, BenchCommand.self]
    )
}
