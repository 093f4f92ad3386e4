import ArgumentParser
import Foundation
import StrataDriver

/// Runs the command and maps every way out onto the exit codes of docs/cli.md.
func runStrata() -> Int32 {
    do {
        var command = try Strata.parseAsRoot()
        try command.run()
        return ExitStatus.success.rawValue
    } catch let code as ExitCode {
        return code.rawValue
    } catch let error as UsageError {
        printError("strata: error: \(error.message)")
        return ExitStatus.usage.rawValue
    } catch {
        switch Strata.exitCode(for: error) {
        case .success:
            print(Strata.fullMessage(for: error))
            return ExitStatus.success.rawValue
        case .validationFailure:
            // ArgumentParser's own usage errors: 2 here, not its 64.
            printError(Strata.fullMessage(for: error))
            return ExitStatus.usage.rawValue
        default:
            printError("strata: internal error: \(error)\nThis is a bug in strata; please report it with the spec that caused it.")
            return ExitStatus.internalError.rawValue
        }
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

exit(runStrata())
