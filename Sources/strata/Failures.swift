import ArgumentParser
import Foundation
import StrataDriver

/// Maps what a verb can fail with onto the exit codes of docs/cli.md,
/// printing the message (or the spec's diagnostics) on standard error.
enum Failures {
    static var colorOnStandardError: Bool {
        isatty(STDERR_FILENO) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
    }

    static func reporting<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let errors as SpecErrors {
            printError(errors.diagnostics.renderedText(color: colorOnStandardError))
            throw ExitCode(ExitStatus.specError.rawValue)
        } catch let error as InputError {
            printError("strata: error: \(error.message)")
            throw ExitCode(ExitStatus.specError.rawValue)
        } catch let error as RunFailure {
            printError("strata: error: \(error.message)")
            throw ExitCode(error.isInput ? ExitStatus.specError.rawValue : ExitStatus.usage.rawValue)
        }
    }
}
