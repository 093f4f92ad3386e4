import StrataDiagnostics
import StrataIR
import StrataSyntax

/// A spec whose names all resolve: every layer calls a known op or block
/// with attributes of the right kind, every `from` names a value defined
/// above it, and the `train:` section binds existing networks.
public struct ResolvedSpec: Sendable {
    public let spec: SpecFile
    public let blocks: [String: ResolvedBlock]
    public let networks: [ResolvedNetwork]
    /// Role (`generator`, `network`, ...) to network name, defaults filled in.
    public let trainBindings: [String: String]
}

public struct ResolvedBlock: Sendable {
    public let decl: BlockDecl
    public let layers: [ResolvedLayer]
}

public struct ResolvedNetwork: Sendable {
    public let decl: NetworkDecl
    public let layers: [ResolvedLayer]
}

/// What a layer entry calls.
public enum Callee: Sendable {
    case op(Op)
    case block(String)
}

public struct ResolvedLayer: Sendable {
    public let entry: LayerEntry
    public let callee: Located<Callee>
    /// The attributes the entry sets (not the defaults), by name.
    public let attributes: [String: Located<AttributeValue>]
    /// Block arguments, for a block call.
    public let arguments: [String: Located<ParamValue>]
}

/// An attribute value read according to its declared type.
public enum AttributeValue: Sendable {
    case int(ExprSyntax)
    /// One per spatial axis (a single value is already repeated per axis).
    case ints([ExprSyntax])
    case same
    case valid
    case float(FloatSyntax)
    case bool(Bool)
    case choice(String)
    /// A reshape target; `-1` entries are kept as written.
    case shape([ExprSyntax])
    case axes([Int])
}
