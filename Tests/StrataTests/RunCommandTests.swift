import Foundation
import StrataKernels
import StrataRuntime
import Testing

/// `strata run` and `strata init` as a user runs them, including damaged
/// and mismatched inputs, which must fail with exit 1 or 2 and a message
/// that names the file and the problem.
/// A class, so that each test's folder is removed when the test ends.
@Suite final class RunCommandTests {
    let dir: URL

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("strata-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func strata(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try run(Repo.strataBinary, arguments)
    }

    /// A gray test image with a gradient, written by Strata's own PNG writer.
    func grayImage(width: Int, height: Int) throws -> String {
        let t = Tensor(shape: [1, height, width], data: (0..<(width * height)).map { Float($0 % width) / Float(width) })
        try PNGImage.write(t, to: path("gray.png"))
        return path("gray.png")
    }

    @Test func espcnUpscalesAnImageThreeTimes() throws {
        let image = try grayImage(width: 10, height: 12)
        let r = try strata(["run", "Specs/espcn-x3.yaml", "--input", "y=\(image)", "--output", "y_hr=\(path("up.png"))"])
        #expect(r.status == 0, "\(r.stderr)")
        let up = try PNGImage.read(path: path("up.png"))
        #expect(up.shape == [1, 1, 36, 30])
    }

    @Test func dcganGeneratorWritesAGrid() throws {
        let r = try strata(["run", "Specs/dcgan-64.yaml", "--network", "generator", "--input", "z=normal", "--dims", "N=16",
                            "--output", "image=\(path("grid.png"))"])
        #expect(r.status == 0, "\(r.stderr)")
        // 4 x 4 tiles of 64 pixels with 2 pixels around each.
        #expect(try PNGImage.read(path: path("grid.png")).shape == [1, 3, 266, 266])
    }

    @Test func runsWithOneSeedAreBitIdentical() throws {
        for (seed, file) in [("3", "a.npy"), ("3", "b.npy"), ("4", "c.npy")] {
            let r = try strata(["run", "Specs/vae-mnist.yaml", "--network", "decoder", "--input", "z=normal", "--dims", "N=2",
                                "--seed", seed, "--output", "image=\(path(file))"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let a = try Data(contentsOf: URL(fileURLWithPath: path("a.npy")))
        #expect(a == (try Data(contentsOf: URL(fileURLWithPath: path("b.npy")))))
        #expect(a != (try Data(contentsOf: URL(fileURLWithPath: path("c.npy")))))
    }

    /// The tiles' depth loop runs on AVX-512 where the processor has it,
    /// and on AVX2 with STRATA_NO_AVX512 set (as on every other x86-64):
    /// both match the reference runtime, on models that reach the plain and
    /// lanes tiles, their pairs of column groups, Winograd's forms, sliced
    /// depths, transposed layers and linear layers. Without AVX-512 both
    /// runs take the AVX2 loop.
    @Test func bothTileLoopsMatchTheReference() throws {
        for (spec, network, dims, input, output) in [
            ("Specs/resnet20-cifar.yaml", nil, "N=3", "image", "logits"),
            ("Specs/espcn-x3.yaml", nil, "N=1,H=37,W=34", "y", "y_hr"),
            ("Specs/edsr-baseline-x2.yaml", nil, "N=1,H=21,W=18", "lr", "hr"),
            ("Specs/dcgan-64.yaml", "generator", "N=3", "z", "image"),
            ("Specs/vae-mnist.yaml", "encoder", "N=7", "image", "mu"),
        ] {
            var results: [[Float]] = []
            for (file, extra, environment) in [("fast.npy", [String](), [String: String]()),
                                               ("avx2.npy", [], ["STRATA_NO_AVX512": "1"]), ("reference.npy", ["--reference"], [:])] {
                let r = try run(Repo.strataBinary, ["run", spec, "--dims", dims, "--seed", "5", "--input", "\(input)=normal",
                                                    "--output", "\(output)=\(path(file))"] + (network.map { ["--network", $0] } ?? []) + extra,
                                environment: environment)
                #expect(r.status == 0, "\(spec) \(file): \(r.stderr)")
                results.append(try NPY.read(path: path(file)).tensor.data)
            }
            let reference = results[2], scale = reference.map(abs).max() ?? 0
            for (name, fast) in zip(["AVX-512 where there is one", "AVX2"], results) {
                let error = zip(fast, reference).map { abs($0 - $1) }.max() ?? .infinity
                #expect(fast.count == reference.count && error <= 1e-4 * scale, "\(spec) on \(name): error \(error) of \(scale)")
            }
        }
    }

    @Test func initWritesWhatRunWouldInitialise() throws {
        #expect(try strata(["init", "Specs/lenet5.yaml", "-o", path("w.safetensors"), "--seed", "9"]).status == 0)
        let written = try SafeTensors.read(path: path("w.safetensors"))
        #expect(written.count == 10)
        let common = ["run", "Specs/lenet5.yaml", "--input", "image=uniform", "--dims", "N=1", "--seed", "9"]
        let fresh = try strata(common + ["--output", "logits=\(path("fresh.npy"))"])
        let loaded = try strata(common + ["--weights", path("w.safetensors"), "--output", "logits=\(path("loaded.npy"))"])
        #expect(fresh.status == 0 && loaded.status == 0, "\(fresh.stderr)\(loaded.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path("fresh.npy"))) == Data(contentsOf: URL(fileURLWithPath: path("loaded.npy"))))
    }

    @Test func classifierPrintsTopFive() throws {
        let r = try strata(["run", "Specs/lenet5.yaml", "--input", "image=zeros", "--dims", "N=1"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("logits: f32[1, 10]"))
        #expect(r.stdout.contains("top-5"))
    }

    @Test func weightsForOneNetworkOfSeveral() throws {
        let weights = Repo.url("Tests/StrataTests/Fixtures/models/dcgan-mnist-discriminator.weights.safetensors").path
        let prefixed = try strata(["run", "Specs/dcgan-mnist.yaml", "--network", "discriminator", "--weights", weights,
                                   "--input", "image=uniform", "--dims", "N=1"])
        #expect(prefixed.status == 0, "\(prefixed.stderr)")
        // The same file named for one network expects unprefixed names: every tensor is then unexpected.
        let wrong = try strata(["run", "Specs/dcgan-mnist.yaml", "--network", "discriminator", "--weights", "discriminator=\(weights)",
                                "--input", "image=uniform", "--dims", "N=1"])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("missing") && wrong.stderr.contains("unexpected"))
    }

    // MARK: damaged and mismatched inputs

    func expectFailure(_ arguments: [String], status: Set<Int32> = [1], mentions: [String],
                       sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let r = try strata(arguments)
        #expect(status.contains(r.status), "exit \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        for m in mentions { #expect(r.stderr.contains(m), "stderr lacks '\(m)': \(r.stderr)", sourceLocation: sourceLocation) }
        #expect(!r.stderr.contains("Fatal error"), sourceLocation: sourceLocation)
    }

    func lenetWeights() throws -> Data {
        try Data(contentsOf: Repo.url("Tests/StrataTests/Fixtures/models/lenet5-lenet5.weights.safetensors"))
    }

    let lenet = ["run", "Specs/lenet5.yaml", "--input", "image=zeros", "--dims", "N=1"]

    @Test func truncatedSafetensors() throws {
        let data = try lenetWeights()
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path("cut.safetensors")))
        try expectFailure(lenet + ["--weights", path("cut.safetensors")], mentions: ["cut.safetensors", "not a valid safetensors file"])
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path("tiny.safetensors")))
        try expectFailure(lenet + ["--weights", path("tiny.safetensors")], mentions: ["tiny.safetensors", "shorter than"])
    }

    @Test func headerClaimingBytesPastTheEnd() throws {
        let header = Array(#"{"0.weight":{"dtype":"F32","shape":[6,1,5,5],"data_offsets":[0,600]}}"#.utf8)
        var file = Data()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(contentsOf: header)
        file.append(Data(count: 40))
        try file.write(to: URL(fileURLWithPath: path("lying.safetensors")))
        try expectFailure(lenet + ["--weights", path("lying.safetensors")], mentions: ["lying.safetensors", "claims bytes 0..<600"])
        var huge = Data()
        withUnsafeBytes(of: UInt64.max.littleEndian) { huge.append(contentsOf: $0) }
        try huge.write(to: URL(fileURLWithPath: path("huge.safetensors")))
        try expectFailure(lenet + ["--weights", path("huge.safetensors")], mentions: ["huge.safetensors", "header claims"])
    }

    @Test func tensorOfTheWrongShapeAndMissingOnes() throws {
        var tensors = try SafeTensors.read(path: Repo.url("Tests/StrataTests/Fixtures/models/lenet5-lenet5.weights.safetensors").path)
        tensors["0.weight"] = .float(Tensor(zeros: [6, 1, 3, 3]))
        tensors["9.bias"] = nil
        tensors["extra.weight"] = .float(Tensor(zeros: [2]))
        try SafeTensors.write(tensors, to: path("shapes.safetensors"))
        try expectFailure(lenet + ["--weights", path("shapes.safetensors")],
                          mentions: ["wrong shape", "0.weight: the file has [6, 1, 3, 3], the spec needs [6, 1, 5, 5]", "missing (1): 9.bias",
                                     "unexpected (1): extra.weight"])
    }

    @Test func npyWithALyingHeader() throws {
        var file = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 28, 28), }\n"
        file.append(contentsOf: [UInt8(header.utf8.count), 0])
        file.append(contentsOf: Array(header.utf8))
        file.append(Data(count: 16))
        try file.write(to: URL(fileURLWithPath: path("lying.npy")))
        try expectFailure(["run", "Specs/lenet5.yaml", "--input", "image=\(path("lying.npy"))"],
                          mentions: ["lying.npy", "needs 3136 bytes of data, but the file holds 16"])
    }

    @Test func pngCutInHalf() throws {
        let image = try grayImage(width: 40, height: 30)
        let data = try Data(contentsOf: URL(fileURLWithPath: image))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path("half.png")))
        try expectFailure(["run", "Specs/espcn-x3.yaml", "--input", "y=\(path("half.png"))"], mentions: ["half.png", "PNG"])
    }

    @Test func imageWithTheWrongChannelCount() throws {
        let image = try grayImage(width: 8, height: 8)
        try expectFailure(["run", "Specs/edsr-baseline-x2.yaml", "--input", "lr=\(image)"],
                          mentions: ["input 'lr' takes 3 channels (RGB)", "has 1 (gray)"])
    }

    @Test func inputThatBreaksADimConstraint() throws {
        try expectFailure(["run", "Specs/fast-style-transfer.yaml", "--input", "image=zeros", "--dims", "N=1,H=30,W=32"],
                          mentions: ["H=30", "multiple_of: 4"])
        var file = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 30, 32), }\n"
        file.append(contentsOf: [UInt8(header.utf8.count), 0])
        file.append(contentsOf: Array(header.utf8))
        file.append(Data(count: 4 * 3 * 30 * 32))
        try file.write(to: URL(fileURLWithPath: path("odd.npy")))
        try expectFailure(["run", "Specs/fast-style-transfer.yaml", "--input", "image=\(path("odd.npy"))"],
                          mentions: ["input 'image' axis 2 is 30", "multiple_of: 4"])
    }

    @Test func missingFilesAreUsageErrors() throws {
        try expectFailure(lenet + ["--weights", path("absent.safetensors")], status: [2], mentions: ["absent.safetensors"])
        try expectFailure(["run", "Specs/lenet5.yaml", "--input", "image=\(path("absent.npy"))"], status: [2], mentions: ["absent.npy"])
        try expectFailure(["run", "Specs/dcgan-64.yaml", "--input", "z=normal"], status: [2], mentions: ["--network"])
        try expectFailure(["run", "Specs/lenet5.yaml", "--input", "image=normal"], status: [2], mentions: ["--dims N="])
    }
}
