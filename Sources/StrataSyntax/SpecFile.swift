import StrataDiagnostics
import StrataSymbolic

/// A value with the span of source it was read from.
public struct Located<Value: Sendable>: Sendable {
    public let value: Value
    public let span: SourceSpan
    public init(_ value: Value, _ span: SourceSpan) {
        self.value = value
        self.span = span
    }
}

/// A spec file as written: structure, names and expressions, every part
/// located. Nothing is resolved yet; the check phase does that.
public struct SpecFile: Sendable {
    public let source: SourceFile
    public let version: Located<Int>
    public let name: Located<String>
    public let description: String?
    public let params: [ParamDecl]
    public let dims: [DimDecl]
    public let blocks: [BlockDecl]
    public let networks: [NetworkDecl]
    public let train: TrainDecl?
    /// True when the single network sits at the top level instead of under `networks:`.
    public let isShorthand: Bool
}

/// A number a param or a block parameter holds: an integer expression over
/// earlier params, or a float.
public enum ParamValue: Sendable {
    case integer(ExprSyntax)
    case float(Located<Double>)

    public var span: SourceSpan {
        switch self {
        case .integer(let e): return e.span
        case .float(let f): return f.span
        }
    }
}

public struct ParamDecl: Sendable {
    public let name: Located<String>
    /// nil when the value was malformed (and reported); the name still counts
    /// as declared, so its uses are not reported again.
    public let value: ParamValue?
}

public struct DimDecl: Sendable {
    public let name: Located<String>
    public let min: ExprSyntax?
    public let multipleOf: ExprSyntax?
}

public struct BlockParamDecl: Sendable {
    public let name: Located<String>
    public let isRequired: Bool
    /// nil when required, or when the default was malformed (and reported).
    public let defaultValue: ParamValue?
}

public struct BlockDecl: Sendable {
    public let name: Located<String>
    public let params: [BlockParamDecl]
    public let layers: [LayerEntry]
}

public struct NetworkDecl: Sendable {
    public let name: Located<String>
    public let inputs: [InputDecl]
    public let layers: [LayerEntry]
    public let outputs: [OutputDecl]
}

/// A list of dimension expressions, with the span of the whole list.
public struct ShapeSyntax: Sendable {
    public let dims: [ExprSyntax]
    public let span: SourceSpan
}

public struct InputDecl: Sendable {
    public let name: Located<String>
    public let shape: ShapeSyntax
    public let dtype: Located<DType>?
}

public struct OutputDecl: Sendable {
    public let name: Located<String>
    public let from: Located<String>?
    public let shape: ShapeSyntax?
}

/// How a layer entry gives its op's arguments.
public enum LayerArguments: Sendable {
    /// `- relu`, `- relu:` or `- relu: {}`.
    case none
    /// `- leaky_relu: 0.2` or `- reshape: [N, 64]`: the op's primary attribute.
    case primary(YAMLNode)
    /// `- conv2d: {out: 64, kernel: 3}`.
    case attributes([(key: Located<String>, value: YAMLNode)])
}

public struct LayerEntry: Sendable {
    /// The keys of the entry other than `name`, `from` and `repeat`, with
    /// their arguments, in order. Normally one: the op or block. More means a
    /// misspelt keyword or a forgotten `- `; the check phase tells which.
    public let calls: [(callee: Located<String>, arguments: LayerArguments)]
    public let name: Located<String>?
    /// The values it reads; nil means the previous value.
    public let from: [Located<String>]?
    public let repeatCount: ExprSyntax?
    /// The whole entry.
    public let span: SourceSpan

    /// The op or block name as first written.
    public var callee: Located<String> { calls[0].callee }
}

/// A float attribute or hyperparameter: a number, or the name of a param.
public enum FloatSyntax: Sendable {
    case literal(Double)
    case name(String)
}

public struct TrainDecl: Sendable {
    public let objective: Located<Objective>
    /// Role (`generator`, `encoder`, `network`, ...) to the network it binds.
    public let bindings: [(role: Located<String>, network: Located<String>)]
    public let loss: Located<String>?
    public let optimizer: OptimizerDecl?
    public let batch: ExprSyntax?
    public let epochs: ExprSyntax?
    public let span: SourceSpan
}

public struct OptimizerDecl: Sendable {
    public let kind: Located<String>
    public let settings: [(key: Located<String>, value: Located<[FloatSyntax]>)]
}
