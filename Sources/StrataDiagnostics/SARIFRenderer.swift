import Foundation

/// Renders one run of diagnostics as a SARIF 2.1.0 log for code-scanning
/// uploads. Columns are Unicode code points, as everywhere in Strata.
public enum SARIFRenderer {
    struct Log: Encodable {
        let schema = "https://json.schemastore.org/sarif-2.1.0.json"
        let version = "2.1.0"
        let runs: [Run]
        enum CodingKeys: String, CodingKey {
            case schema = "$schema"
            case version, runs
        }
    }

    struct Run: Encodable {
        let tool: Tool
        let columnKind = "unicodeCodePoints"
        let results: [Result]
    }

    struct Tool: Encodable { let driver: Driver }

    struct Driver: Encodable {
        let name: String
        let version: String
        let rules: [Rule]
    }

    struct Text: Encodable { let text: String }

    struct Rule: Encodable {
        struct Configuration: Encodable { let level: String }
        let id: String
        let shortDescription: Text
        let defaultConfiguration: Configuration
    }

    struct Region: Encodable {
        let startLine: Int
        let startColumn: Int
        let endLine: Int
        let endColumn: Int
    }

    struct ArtifactLocation: Encodable { let uri: String }

    struct PhysicalLocation: Encodable {
        let artifactLocation: ArtifactLocation
        let region: Region
    }

    struct Location: Encodable {
        let id: Int?
        let physicalLocation: PhysicalLocation
        let message: Text?
    }

    struct Replacement: Encodable {
        let deletedRegion: Region
        let insertedContent: Text
    }

    struct ArtifactChange: Encodable {
        let artifactLocation: ArtifactLocation
        let replacements: [Replacement]
    }

    struct Fix: Encodable {
        let description: Text
        let artifactChanges: [ArtifactChange]
    }

    struct Result: Encodable {
        let ruleId: String
        let ruleIndex: Int
        let level: String
        let message: Text
        let locations: [Location]
        let relatedLocations: [Location]?
        let fixes: [Fix]?
    }

    public static func render(_ diagnostics: [Diagnostic], toolVersion: String) -> String {
        let codes = Set(diagnostics.map(\.code)).sorted { $0.id < $1.id }
        let ruleIndex = Dictionary(uniqueKeysWithValues: codes.enumerated().map { ($1.id, $0) })
        let rules = codes.map {
            Rule(id: $0.id, shortDescription: Text(text: $0.title),
                 defaultConfiguration: .init(level: level($0.severity)))
        }
        let results = diagnostics.map { d in
            let text = ([d.message] + d.notes.map { "note: \($0)" } + d.help.map { "help: \($0)" })
                .joined(separator: "\n")
            let related = d.secondary.enumerated().map { i, l in
                Location(id: i + 1, physicalLocation: physical(l.span), message: Text(text: l.message))
            }
            let fixes = d.fixIts.map { f in
                Fix(description: Text(text: d.help.first ?? "apply the suggested edit"),
                    artifactChanges: [ArtifactChange(
                        artifactLocation: ArtifactLocation(uri: uri(f.span.file.path)),
                        replacements: [Replacement(deletedRegion: region(f.span), insertedContent: Text(text: f.replacement))])])
            }
            return Result(
                ruleId: d.code.id, ruleIndex: ruleIndex[d.code.id] ?? 0, level: level(d.severity),
                message: Text(text: text),
                locations: [Location(id: nil, physicalLocation: physical(d.primary.span), message: nil)],
                relatedLocations: related.isEmpty ? nil : related,
                fixes: fixes.isEmpty ? nil : fixes)
        }
        let log = Log(runs: [Run(
            tool: Tool(driver: Driver(name: "strata", version: toolVersion, rules: rules)),
            results: results)])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let data = (try? encoder.encode(log)) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    private static func level(_ s: Severity) -> String {
        switch s {
        case .error: return "error"
        case .warning: return "warning"
        case .note: return "note"
        }
    }

    private static func region(_ span: SourceSpan) -> Region {
        let s = span.start, e = span.end
        return Region(startLine: s.line, startColumn: s.column, endLine: e.line, endColumn: e.column)
    }

    private static func physical(_ span: SourceSpan) -> PhysicalLocation {
        PhysicalLocation(artifactLocation: ArtifactLocation(uri: uri(span.file.path)), region: region(span))
    }

    /// A relative path as a URI reference: percent-encode what a URI may not hold.
    private static func uri(_ path: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "%")
        return path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path
    }
}
