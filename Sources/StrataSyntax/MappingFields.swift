import StrataDiagnostics

/// The pairs of one YAML mapping whose keys have been checked against the
/// keys allowed there; unknown keys are reported with a suggestion.
struct MappingFields {
    let node: YAMLNode
    private(set) var pairs: [(key: Located<String>, value: YAMLNode)] = []
    /// Allowed keys that an unknown key was suggested as: their typo's report
    /// already covers them, so they are not reported missing too.
    private(set) var misspelt: Set<String> = []

    /// nil (with a diagnostic) when `node` is not a mapping.
    init?(_ node: YAMLNode, what: String, allowed: [String], diagnostics: inout DiagnosticSet,
          help: [String] = []) {
        self.node = node
        guard let mapping = node.mapping else {
            diagnostics.add(Diagnostic(.wrongType, "expected a mapping for \(what), found \(node.kindDescription)",
                                       at: node.span, label: "expected a mapping", help: help))
            return nil
        }
        for pair in mapping {
            guard let key = pair.key.scalar else {
                diagnostics.add(Diagnostic(.wrongType, "keys of \(what) must be names, found \(pair.key.kindDescription)",
                                           at: pair.key.span, label: "expected a name"))
                continue
            }
            if !allowed.contains(key) {
                let s = Suggestions.didYouMean(key, at: pair.key.span, among: allowed)
                if let fix = s.fixIts.first { misspelt.insert(fix.replacement) }
                diagnostics.add(Diagnostic(
                    .unknownKey, "unknown key '\(key)' in \(what)", at: pair.key.span, label: "unknown key",
                    notes: ["expected one of: \(allowed.joined(separator: ", "))"], help: s.help, fixIts: s.fixIts))
                continue
            }
            pairs.append((Located(key, pair.key.span), pair.value))
        }
    }

    /// Reads every pair of a mapping whose keys are names chosen by the user
    /// (params, networks, inputs); keys that are not scalars are reported.
    static func entries(_ node: YAMLNode, what: String, diagnostics: inout DiagnosticSet)
        -> [(key: Located<String>, value: YAMLNode)]?
    {
        guard let mapping = node.mapping else {
            diagnostics.add(Diagnostic(.wrongType, "expected a mapping for \(what), found \(node.kindDescription)",
                                       at: node.span, label: "expected a mapping"))
            return nil
        }
        return mapping.compactMap { pair in
            guard let key = pair.key.scalar else {
                diagnostics.add(Diagnostic(.wrongType, "keys of \(what) must be names, found \(pair.key.kindDescription)",
                                           at: pair.key.span, label: "expected a name"))
                return nil
            }
            return (Located(key, pair.key.span), pair.value)
        }
    }

    subscript(key: String) -> YAMLNode? { pairs.first { $0.key.value == key }?.value }

    func keySpan(_ key: String) -> SourceSpan? { pairs.first { $0.key.value == key }?.key.span }

    /// The value of a key that must be there; a missing one is reported at
    /// the mapping's own span (or `ownerSpan`, the key that holds the mapping).
    func require(_ key: String, what: String, ownerSpan: SourceSpan? = nil, example: String,
                 diagnostics: inout DiagnosticSet) -> YAMLNode? {
        if let v = self[key] { return v }
        if misspelt.contains(key) { return nil }
        let at = ownerSpan ?? SourceSpan(file: node.span.file, range: node.span.range.lowerBound..<node.span.range.lowerBound)
        diagnostics.add(Diagnostic(.missingKey, "\(what) has no `\(key)`", at: at, label: "`\(key)` missing",
                                   help: ["add `\(example)`"]))
        return nil
    }
}
