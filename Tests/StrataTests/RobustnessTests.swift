import Foundation
import StrataDiagnostics
import StrataDriver
import StrataKernels
import StrataRuntime
import Testing

/// A small deterministic generator, so a failing mutation can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random damage to valid specs: whatever the damage, checking must end
/// quickly with diagnostics, never a crash or a hang.
@Suite struct RobustnessTests {
    static let seeds: [[UInt8]] = (Repo.files(under: "Specs", extensions: ["yaml"]) + ["docs/examples/mistakes.yaml"])
        .compactMap { try? Array(Data(contentsOf: Repo.url($0))) }

    static let punctuation = Array(":-[]{},&*!|>'\"%@`#\t \n?<=~".utf8)

    static func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        let rounds = Int.random(in: 1...3, using: &rng)
        for _ in 0..<rounds where !bytes.isEmpty {
            let i = Int.random(in: 0..<bytes.count, using: &rng)
            var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
            let l = Int.random(in: 0..<lines.count, using: &rng)
            switch Int.random(in: 0..<9, using: &rng) {
            case 0: lines.remove(at: l); bytes = Array(lines.joined(separator: [UInt8(ascii: "\n")]))
            case 1: lines.insert(lines[l], at: l); bytes = Array(lines.joined(separator: [UInt8(ascii: "\n")]))
            case 2: if i + 1 < bytes.count { bytes.swapAt(i, i + 1) }
            case 3: bytes = Array(bytes[..<i])
            case 4: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: i)
            case 5: bytes[i] = punctuation.randomElement(using: &rng) ?? 0
            case 6: lines[l] = Array("  ".utf8) + lines[l]; bytes = Array(lines.joined(separator: [UInt8(ascii: "\n")]))
            case 7: if lines[l].count >= 2 { lines[l].removeFirst(2) }; bytes = Array(lines.joined(separator: [UInt8(ascii: "\n")]))
            default:
                let digits = ["0", "-1", "99999999999999999999", "1.5", "1e400", "*", "&a", "*a", "~"].randomElement(using: &rng) ?? "0"
                bytes.replaceSubrange(i..<min(i + 1, bytes.count), with: Array(digits.utf8))
            }
        }
        return bytes
    }

    @Test func thousandsOfMutationsNeverCrashOrHang() {
        var rng = SplitMix64(state: 20261123)
        var outcomes = [0, 0]
        var slowest = 0.0
        for n in 0..<4000 {
            let seed = Self.seeds[n % Self.seeds.count]
            let mutated = Self.mutate(seed, &rng)
            let start = Date()
            let diagnostics = Pipeline.check(SourceFile(path: "mutant-\(n).yaml", bytes: mutated))
            slowest = max(slowest, Date().timeIntervalSince(start))
            outcomes[diagnostics.hasErrors ? 1 : 0] += 1
            for d in diagnostics.diagnostics {
                let s = d.primary.span
                #expect(s.range.lowerBound >= 0 && s.range.upperBound <= mutated.count, "mutant \(n): span out of file")
                #expect(!d.message.isEmpty)
            }
        }
        // A hang guard, not a performance assertion: one small file in seconds means a loop ran away.
        #expect(slowest < 5, "a mutant took \(slowest) s to check")
        #expect(outcomes[1] > 1000, "mutations should mostly break specs: \(outcomes)")
    }

    @Test func billionLaughsFailsFast() {
        var text = "strata: 1\nname: lol\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for k in 1...9 {
            text += "a\(k): &a\(k) [" + Array(repeating: "*a\(k - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        let start = Date()
        let d = Pipeline.check(SourceFile(path: "lol.yaml", text: text))
        #expect(Date().timeIntervalSince(start) < 5)
        #expect(d.diagnostics.map(\.code.id) == ["E103"])
    }

    @Test func deepNestingIsAnError() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let d = Pipeline.check(SourceFile(path: "deep.yaml", text: "strata: 1\nname: deep\nx: \(deep)\n"))
        #expect(d.diagnostics.map(\.code.id) == ["E104"])
    }

    @Test func longExpressionsDoNotOverflowTheStack() {
        let nested = String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000)
        let text = "strata: 1\nname: e\ndims: [N]\ninputs: {x: [N, 4]}\nlayers: [{linear: \(nested)}]\noutputs: {y: [N, 1]}\n"
        let d = Pipeline.check(SourceFile(path: "e.yaml", text: text))
        #expect(d.diagnostics.map(\.code.id) == ["E301"])
    }

    /// The real executable on damaged files: only exit codes 0, 1 and 2.
    @Test func theCommandExitsCleanlyOnDamagedFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("strata-mutants-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SplitMix64(state: 7)
        for n in 0..<60 {
            let seed = Self.seeds[n % Self.seeds.count]
            try Data(Self.mutate(seed, &rng)).write(to: dir.appendingPathComponent("m\(n).yaml"))
        }
        for format in ["text", "json", "sarif", "github"] {
            let r = try run(Repo.strataBinary, ["check", "--format", format, dir.path])
            #expect(r.status == 1, "format \(format): exit \(r.status); stderr: \(r.stderr)")
            #expect(r.stderr.isEmpty, "format \(format): \(r.stderr)")
        }
    }
}

/// Damaged weight, array and image files: every reader ends in a value or
/// an error, never a crash or a runaway allocation.
@Suite struct FileReaderRobustnessTests {
    static func damage(_ data: Data, _ rng: inout SplitMix64) -> Data {
        var b = [UInt8](data)
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: b = Array(b.prefix(Int.random(in: 0..<max(b.count, 1), using: &rng)))
        case 1:
            for _ in 0..<Int.random(in: 1...8, using: &rng) where !b.isEmpty {
                b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
        case 2:
            // Lengths and offsets live near the start.
            for i in 0..<min(16, b.count) where Bool.random(using: &rng) { b[i] = UInt8.random(in: 0...255, using: &rng) }
        default: b += (0..<Int.random(in: 1...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        }
        return Data(b)
    }

    @Test func damagedFilesGiveErrors() throws {
        let weights = try Data(contentsOf: Repo.url("Tests/StrataTests/Fixtures/models/espcn-x3-espcn-x3.weights.safetensors"))
        var npy = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n"
        npy.append(contentsOf: [UInt8(header.utf8.count), 0])
        npy.append(contentsOf: Array(header.utf8))
        npy.append(Data(count: 24))
        let png = FileManager.default.temporaryDirectory.appendingPathComponent("strata-fuzz-\(getpid()).png")
        try PNGImage.write(Tensor(shape: [3, 9, 7], data: (0..<189).map { Float($0) / 189 }), to: png.path)
        let image = try Data(contentsOf: png)
        var rng = SplitMix64(state: 11)
        var failures = 0
        for _ in 0..<400 {
            if (try? SafeTensors.read(Self.damage(weights, &rng), name: "w")) == nil { failures += 1 }
            if (try? NPY.read(Self.damage(npy, &rng), name: "a")) == nil { failures += 1 }
            try Self.damage(image, &rng).write(to: png)
            if (try? PNGImage.read(path: png.path)) == nil { failures += 1 }
        }
        try? FileManager.default.removeItem(at: png)
        #expect(failures > 300)
    }
}
