import Foundation
import StrataDiagnostics
import Testing

/// Paths into the repository, and golden-file comparison with a record mode:
/// `STRATA_RECORD=1 swift test` rewrites goldens and generated files.
enum Repo {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var recording: Bool { ProcessInfo.processInfo.environment["STRATA_RECORD"] == "1" }

    static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    /// A repository file as a SourceFile named by its repository-relative
    /// path, so rendered diagnostics are the same on every machine.
    static func source(_ relative: String) throws -> SourceFile {
        SourceFile(path: relative, bytes: Array(try Data(contentsOf: url(relative))))
    }

    /// Files below a directory with one of the extensions, repository-relative, sorted.
    static func files(under relative: String, extensions: Set<String>) -> [String] {
        let base = url(relative)
        guard let walker = FileManager.default.enumerator(atPath: base.path) else { return [] }
        return walker.compactMap { $0 as? String }
            .filter { extensions.contains(($0 as NSString).pathExtension) }
            .map { relative + "/" + $0 }
            .sorted()
    }

    /// The `strata` executable built next to the test bundle.
    static var strataBinary: URL {
        let bundleDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for dir in [bundleDir, bundleDir.deletingLastPathComponent(), bundleDir.deletingLastPathComponent().deletingLastPathComponent()] {
            let candidate = dir.appendingPathComponent("strata")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return root.appendingPathComponent(".build/debug/strata")
    }
}

/// Compares `actual` with a committed file, or writes it in record mode.
func expectGolden(_ actual: String, _ relative: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    let url = Repo.url(relative)
    if Repo.recording {
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? actual.write(to: url, atomically: true, encoding: .utf8)
        return
    }
    guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
        Issue.record("missing golden \(relative); run `STRATA_RECORD=1 swift test` to create it", sourceLocation: sourceLocation)
        return
    }
    if expected != actual {
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let line = (0..<min(e.count, a.count)).first { e[$0] != a[$0] } ?? min(e.count, a.count)
        let want = line < e.count ? String(e[line]) : "<end>"
        let got = line < a.count ? String(a[line]) : "<end>"
        Issue.record("""
            \(relative) differs at line \(line + 1):
              expected: \(want)
              actual:   \(got)
            (run `STRATA_RECORD=1 swift test` if the change is intended)
            """, sourceLocation: sourceLocation)
    }
}

/// Runs a process to completion and returns its exit status and output.
func run(_ executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws
    -> (status: Int32, stdout: String, stderr: String)
{
    let p = Process()
    p.executableURL = executable
    p.arguments = arguments
    p.currentDirectoryURL = Repo.root
    var env = ProcessInfo.processInfo.environment
    env.merge(environment) { $1 }
    p.environment = env
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    // Read before waiting so a full pipe cannot block the child.
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}
