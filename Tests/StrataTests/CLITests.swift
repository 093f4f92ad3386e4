import Foundation
import Testing

/// The executable's contract from docs/cli.md: exit codes and output channels.
@Suite struct CLITests {
    @Test func cleanSpecsExitZero() throws {
        let r = try run(Repo.strataBinary, ["check", "Specs"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("no problems found"))
    }

    @Test func specErrorsExitOne() throws {
        let r = try run(Repo.strataBinary, ["check", "docs/examples/mistakes.yaml"])
        #expect(r.status == 1)
        #expect(r.stdout.contains("5 errors"))
    }

    @Test(arguments: [
        ["check", "no/such/file.yaml"],
        ["check"],
        ["check", "--format", "xml", "Specs"],
        ["check", "--bogus", "Specs"],
        ["frobnicate"],
        ["check", "Sources"],
    ])
    func usageAndIOErrorsExitTwo(_ arguments: [String]) throws {
        let r = try run(Repo.strataBinary, arguments)
        #expect(r.status == 2, "\(arguments): exit \(r.status)")
        #expect(!r.stderr.isEmpty)
        #expect(!r.stderr.contains("Fatal error"))
    }

    @Test func helpAndVersionExitZero() throws {
        for args in [["--help"], ["check", "--help"], ["--version"]] {
            let r = try run(Repo.strataBinary, args)
            #expect(r.status == 0, "\(args)")
            #expect(!r.stdout.isEmpty)
        }
    }

    @Test func jsonIsOneObjectPerLine() throws {
        let r = try run(Repo.strataBinary, ["check", "--format", "json", "docs/examples/mistakes.yaml"])
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 5)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["file"] as? String == "docs/examples/mistakes.yaml")
            #expect(object?["line"] is Int && object?["column"] is Int && object?["end"] is [String: Any])
            #expect((object?["code"] as? String)?.hasPrefix("E") == true)
        }
    }

    @Test func werrorPromotesWarnings() throws {
        let spec = "Tests/StrataTests/Goldens/inputs/unused-block.yaml"
        let plain = try run(Repo.strataBinary, ["check", spec])
        #expect(plain.status == 0)
        #expect(plain.stdout.contains("warning[W401]"))
        let strict = try run(Repo.strataBinary, ["check", "--werror", spec])
        #expect(strict.status == 1)
        #expect(strict.stdout.contains("error[W401]"))
        #expect(try run(Repo.strataBinary, ["check", "--werror", "Specs"]).status == 0)
    }

    @Test func directoriesAreSearchedRecursively() throws {
        let r = try run(Repo.strataBinary, ["check", "--format", "github", "Tests/StrataTests/Cases"])
        #expect(r.status == 1)
        #expect(r.stdout.split(separator: "\n").allSatisfy { $0.hasPrefix("::error file=Tests/StrataTests/Cases/") || $0.hasPrefix("::warning file=Tests/StrataTests/Cases/") })
    }
}
