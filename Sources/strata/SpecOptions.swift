import ArgumentParser
import Foundation
import StrataDriver

/// The options every verb that works on one checked spec shares.
struct SpecOptions: ParsableArguments {
    @Argument(help: "The spec file.")
    var spec: String

    @Option(help: "Only this network (default: every network of the spec).")
    var network: String?

    @Option(help: ArgumentHelp("Fix dims to values, as in N=1,H=64.", valueName: "NAME=VALUE,..."))
    var dims: String?

    /// The checked model; its problems (errors, or warnings) go to standard error.
    func load() throws -> LoadedModel {
        let loaded = try Failures.reporting { try Pipeline.load(path: spec, network: network, dims: dims) }
        if !loaded.warnings.isEmpty { printError(loaded.warnings.renderedText(color: Failures.colorOnStandardError)) }
        return loaded
    }
}

/// Writes a verb's output to `-o FILE` (atomically) or standard output.
func write(_ text: String, to path: String?) throws {
    guard let path else {
        print(text, terminator: "")
        return
    }
    do {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    } catch {
        throw UsageError("cannot write \(path): \(error.localizedDescription)")
    }
}
