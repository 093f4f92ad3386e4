import ArgumentParser
import Foundation
import StrataDriver

/// Runs the command and maps every way out onto the exit codes of docs/cli.md:
/// ArgumentParser's own usage errors become 2 instead of 64.
func runStrata() -> Int32 {
    do {
        var command = try Strata.parseAsRoot()
        try command.run()
        return ExitStatus.success.rawValue
    } catch let code as ExitCode {
        return code.rawValue
    } catch let error as UsageError {
        FileHandle.standardError.write(Data("strata: error: \(error.message)\n".utf8))
        return ExitStatus.usage.rawValue
    } catch {
        let code = Strata.exitCode(for: error)
        let message = Strata.fullMessage(for: error)
        if code == .success {
            print(message)
            return ExitStatus.success.rawValue
        }
        FileHandle.standardError.write(Data((message.isEmpty ? "strata: error: \(error)" : message).utf8 + [10]))
        return ExitStatus.usage.rawValue
    }
}

exit(runStrata())
