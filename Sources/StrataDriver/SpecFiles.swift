import Foundation
import StrataDiagnostics

/// Finds and loads spec files from the paths a user names.
public enum SpecFiles {
    /// Larger than any spec; a file this big is a wrong path, not a model.
    public static let maxBytes = 16 << 20
    public static let extensions = ["yaml", "yml"]

    /// Files stay as named; directories become their *.yaml / *.yml files,
    /// recursively, in sorted order so output is stable.
    public static func expand(_ paths: [String]) throws -> [String] {
        var files: [String] = []
        let fm = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw UsageError("no such file or directory: \(path)")
            }
            guard isDirectory.boolValue else {
                files.append(path)
                continue
            }
            // Hidden directories (.build, .git) hold other projects' files, not specs.
            let base = URL(fileURLWithPath: path).standardizedFileURL
            guard let walker = fm.enumerator(at: base, includingPropertiesForKeys: nil, options: [.skipsHiddenFiles]) else {
                throw UsageError("cannot read directory: \(path)")
            }
            let prefix = base.path.hasSuffix("/") ? base.path : base.path + "/"
            let found = walker.compactMap { ($0 as? URL)?.standardizedFileURL.path }
                .filter { $0.hasPrefix(prefix) && extensions.contains(($0 as NSString).pathExtension.lowercased()) }
                .map { String($0.dropFirst(prefix.count)) }
                .sorted()
                .map { (path as NSString).appendingPathComponent($0) }
            if found.isEmpty { throw UsageError("no *.yaml or *.yml spec files in directory: \(path)") }
            files += found
        }
        return files
    }

    public static func load(_ path: String) throws -> SourceFile {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw UsageError("cannot read file: \(path)") }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maxBytes + 1) ?? Data()
        } catch {
            throw UsageError("cannot read file: \(path): \(error.localizedDescription)")
        }
        if data.count > maxBytes { throw UsageError("\(path) is larger than \(maxBytes >> 20) MiB; a spec is far smaller") }
        return SourceFile(path: path, bytes: Array(data))
    }
}
