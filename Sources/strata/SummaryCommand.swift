import ArgumentParser
import StrataDriver

struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Print each network's layers with output shapes, parameters and MACs.",
        discussion: "Shapes and MACs stay symbolic in the dims unless --dims fixes them; peak activation memory needs every dim fixed."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @OptionGroup var options: SpecOptions

    @Option(help: "Output format: text or json.")
    var format: Format = .text

    func run() throws {
        let loaded = try options.load()
        print(format == .text ? loaded.summaryText : loaded.summaryJSON, terminator: "")
    }
}
