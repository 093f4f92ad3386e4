import StrataDiagnostics

/// A YAML node with the span of source it came from. Aliases are already
/// expanded and merge keys (`<<`) applied, so the decoder sees plain data.
public struct YAMLNode: Sendable {
    public enum ScalarStyle: Sendable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    public enum Kind: Sendable {
        case scalar(String, ScalarStyle)
        case sequence([YAMLNode])
        case mapping([YAMLPair])
    }

    public let kind: Kind
    public let span: SourceSpan
    /// An explicit tag such as `!!str`, resolved to its full form.
    public let tag: String?
    /// Nodes in this subtree, counting an alias's expansion, to bound aliases.
    let size: Int

    init(_ kind: Kind, span: SourceSpan, tag: String?) {
        self.kind = kind
        self.span = span
        self.tag = tag
        switch kind {
        case .scalar: size = 1
        case .sequence(let items): size = items.reduce(1) { $0 + $1.size }
        case .mapping(let pairs): size = pairs.reduce(1) { $0 + $1.key.size + $1.value.size }
        }
    }

    /// The scalar's text, if this is a scalar.
    public var scalar: String? {
        if case .scalar(let s, _) = kind { return s }
        return nil
    }

    /// A plain (unquoted, untagged) scalar's text: the only kind that may be
    /// read as a number, a boolean, null or an expression.
    public var plainScalar: String? {
        if case .scalar(let s, .plain) = kind, tag == nil { return s }
        return nil
    }

    /// `~`, `null` or nothing at all, as in `- add:` with no value.
    public var isNull: Bool {
        if tag == "tag:yaml.org,2002:null" { return true }
        guard let s = plainScalar else { return false }
        return s.isEmpty || s == "~" || s == "null" || s == "Null" || s == "NULL"
    }

    public var sequence: [YAMLNode]? {
        if case .sequence(let items) = kind { return items }
        return nil
    }

    public var mapping: [YAMLPair]? {
        if case .mapping(let pairs) = kind { return pairs }
        return nil
    }

    /// What a person would call this node in "expected X, found Y".
    public var kindDescription: String {
        switch kind {
        case .scalar(let s, let style):
            if isNull { return "nothing" }
            if style == .plain && tag == nil { return "'\(s)'" }
            return "the string \"\(s)\""
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }
}

public struct YAMLPair: Sendable {
    public let key: YAMLNode
    public let value: YAMLNode
}
