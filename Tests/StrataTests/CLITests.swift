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

extension CLITests {
    @Test func benchPrintsATable() throws {
        let r = try run(Repo.strataBinary, ["bench", "Specs/lenet5.yaml", "--batch", "1,2", "--threads", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = r.stdout.split(separator: "\n").filter { $0.trimmingCharacters(in: .whitespaces).first?.isNumber ?? false }
        #expect(rows.count == 2)
        #expect(r.stdout.contains("GFLOP/s"))
        #expect(try run(Repo.strataBinary, ["bench", "Specs/srcnn.yaml"]).status == 2, "H and W must be fixed")
    }

    /// A wrong `--output` name is reported before anything loads or runs (here, before the missing weights file).
    @Test func runChecksOutputNamesFirst() throws {
        let r = try run(Repo.strataBinary, ["run", "Specs/lenet5.yaml", "--input", "image=zeros", "--dims", "N=1",
                                            "--weights", "/no/such/weights.safetensors", "--output", "probs=-"])
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("--output names 'probs', which is not an output of lenet5"), "\(r.stderr)")
    }

    /// `--profile`: one line per step of the plan, slowest first, shares adding up to the whole.
    @Test func benchProfileTimesEveryStep() throws {
        let r = try run(Repo.strataBinary, ["bench", "Specs/lenet5.yaml", "--profile"])
        #expect(r.status == 0, "\(r.stderr)")
        let plan = try run(Repo.strataBinary, ["compile", "Specs/lenet5.yaml", "--emit", "plan", "--dims", "N=1"])
        let steps = plan.stdout.split(separator: "\n").filter { $0.range(of: #"^\s+\d+  "#, options: .regularExpression) != nil }
        let lines = r.stdout.components(separatedBy: "node: kernel\n").last?.split(separator: "\n") ?? []
        #expect(!steps.isEmpty && lines.count == steps.count, "\(r.stdout)")
        let fields = lines.map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        let times = fields.compactMap { Double($0[1]) }, shares = fields.compactMap { Double($0[2]) }
        #expect(times == times.sorted(by: >))
        #expect(abs(shares.reduce(0, +) - 100) < 1, "\(shares)")
    }

    @Test func rewriteLimitBisects() throws {
        let full = try run(Repo.strataBinary, ["compile", "Specs/lenet5.yaml", "--emit", "optimized"])
        let two = try run(Repo.strataBinary, ["compile", "Specs/lenet5.yaml", "--emit", "optimized", "--rewrite-limit", "2"])
        #expect(full.status == 0 && two.status == 0)
        #expect(two.stdout.components(separatedBy: "  rewrote ").count - 1 == 2)
        #expect(full.stdout.contains("kernels: 8 (from 12 layers)"))
    }

    @Test func referenceAndFastRunsAgree() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("strata-ref-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let common = ["run", "Specs/resnet20-cifar.yaml", "--input", "image=normal", "--dims", "N=2", "--seed", "4"]
        #expect(try run(Repo.strataBinary, common + ["--output", "logits=\(dir.path)/fast.npy", "--threads", "2"]).status == 0)
        #expect(try run(Repo.strataBinary, common + ["--output", "logits=\(dir.path)/ref.npy", "--reference"]).status == 0)
        let fast = try Data(contentsOf: dir.appendingPathComponent("fast.npy")), ref = try Data(contentsOf: dir.appendingPathComponent("ref.npy"))
        #expect(fast.count == ref.count)
        func floats(_ d: Data) -> [Float] { d.suffix(2 * 10 * 4).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) } }
        let a = floats(fast), b = floats(ref)
        let scale = b.map { abs($0) }.max() ?? 1
        #expect(zip(a, b).map { abs($0 - $1) }.max() ?? 0 <= 1e-4 * scale)
    }
}
