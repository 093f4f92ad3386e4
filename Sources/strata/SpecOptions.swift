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
        do {
            let loaded = try Pipeline.load(path: spec, network: network, dims: dims)
            report(loaded.warnings.isEmpty ? "" : loaded.warnings.renderedText(color: colorOnStandardError))
            return loaded
        } catch let errors as SpecErrors {
            report(errors.diagnostics.renderedText(color: colorOnStandardError))
            throw ExitCode(ExitStatus.specError.rawValue)
        } catch let error as InputError {
            printError("strata: error: \(error.message)")
            throw ExitCode(ExitStatus.specError.rawValue)
        }
    }

    private var colorOnStandardError: Bool {
        isatty(STDERR_FILENO) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
    }

    private func report(_ text: String) {
        if !text.isEmpty { printError(text) }
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
