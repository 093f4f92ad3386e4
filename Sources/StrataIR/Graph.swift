import StrataDiagnostics
import StrataSymbolic

/// A value's type: element type and symbolic shape.
public struct TensorType: Hashable, Sendable {
    public let dtype: DType
    public let shape: [Poly]

    public init(_ dtype: DType, _ shape: [Poly]) {
        self.dtype = dtype
        self.shape = shape
    }

    public var rank: Int { shape.count }

    /// The type as diagnostics show it: the shape, prefixed by the element
    /// type only when it is not the usual f32 (`i32[N, L]`).
    public func display(_ scope: DimScope) -> String {
        (dtype == .f32 ? "" : dtype.rawValue) + "[\(shape.map { scope.describe($0) }.joined(separator: ", "))]"
    }
}

/// An attribute value after checking: constants evaluated, defaults filled in.
public enum AttrValue: Hashable, Sendable {
    case int(Int)
    case ints([Int])
    case float(Double)
    case bool(Bool)
    case choice(String)
    /// A shape over dims, as a reshape target.
    case shape([Poly])
}

/// A learned parameter or a buffer, named as PyTorch names it in a state_dict.
public struct Parameter: Hashable, Sendable {
    public enum Kind: String, Sendable {
        case weight, bias
        /// Running statistics and counters: saved with the model, not trained.
        case buffer
    }

    /// The full name: `generator.0.weight`.
    public let name: String
    public let shape: [Int]
    public let dtype: ParameterType
    public let kind: Kind

    public init(name: String, shape: [Int], dtype: ParameterType = .f32, kind: Kind) {
        self.name = name
        self.shape = shape
        self.dtype = dtype
        self.kind = kind
    }

    public var elementCount: Int { shape.reduce(1, *) }
    public var trainable: Bool { kind != .buffer }
}

/// Element types of parameters; PyTorch keeps batch norm's counter in int64.
public enum ParameterType: String, Sendable {
    case f32, i64

    public var byteCount: Int { self == .f32 ? 4 : 8 }
}

public struct ValueID: Hashable, Sendable, Comparable {
    public let index: Int
    public init(_ index: Int) { self.index = index }
    public static func < (a: ValueID, b: ValueID) -> Bool { a.index < b.index }
}

/// Work fused into a producing node, applied in order to each output
/// element while it is still in registers (see StrataOptimize).
public enum Epilogue: Sendable, Hashable {
    /// Batch norm with running statistics; its parameters are among the
    /// node's, named `<prefix>running_mean` and so on.
    case batchNorm(prefix: String, eps: Double, affine: Bool)
    /// A pointwise activation with its attributes (prelu's slopes are among
    /// the node's parameters, named `<prefix>weight`).
    case activation(Op, attributes: [String: AttrValue], prefix: String)
    case scale(Double)
    /// Adds another value of the same shape: a residual connection.
    case add(ValueID)
    /// The result is stored pixel-shuffled with this factor.
    case pixelShuffle(Int)
}

/// One op application in a checked graph.
public struct Node: Sendable {
    public let op: Op
    public let attributes: [String: AttrValue]
    public let inputs: [ValueID]
    public let output: ValueID
    /// The layer path that names this node's value and parameters: `3`, `body`, `4.2.0`.
    public let path: String
    public let parameters: [Parameter]
    /// The layer entry it came from (inside a block: the entry in the block).
    public let span: SourceSpan
    /// Ops fused into this one by the optimizer; empty in a checked graph.
    public var epilogue: [Epilogue] = []
    /// The paths of the nodes fused into this one, for reports.
    public var fused: [String] = []

    /// Every value the node reads: its inputs, then the residuals its epilogue adds.
    public var reads: [ValueID] {
        inputs + epilogue.compactMap { if case .add(let v) = $0 { return v } else { return nil } }
    }

    public init(op: Op, attributes: [String: AttrValue], inputs: [ValueID], output: ValueID, path: String,
                parameters: [Parameter], span: SourceSpan) {
        self.op = op
        self.attributes = attributes
        self.inputs = inputs
        self.output = output
        self.path = path
        self.parameters = parameters
        self.span = span
    }

    public func int(_ name: String) -> Int? {
        if case .int(let v)? = attributes[name] { return v }
        return nil
    }

    public func ints(_ name: String) -> [Int]? {
        if case .ints(let v)? = attributes[name] { return v }
        return nil
    }

    public func float(_ name: String) -> Double? {
        if case .float(let v)? = attributes[name] { return v }
        return nil
    }

    public func bool(_ name: String) -> Bool? {
        if case .bool(let v)? = attributes[name] { return v }
        return nil
    }

    public func choice(_ name: String) -> String? {
        if case .choice(let v)? = attributes[name] { return v }
        return nil
    }
}

/// One network after checking: blocks expanded, every value typed, every
/// parameter named and shaped. Nodes are in a valid execution order.
public struct Graph: Sendable {
    public let name: String
    /// What parameter names start with: `generator.` in a spec with
    /// `networks:`, nothing for a single network written at the top level.
    public let parameterPrefix: String
    public let inputs: [(name: String, value: ValueID)]
    public let outputs: [(name: String, value: ValueID)]
    public let types: [TensorType]
    public let nodes: [Node]

    public init(name: String, parameterPrefix: String, inputs: [(name: String, value: ValueID)],
                outputs: [(name: String, value: ValueID)], types: [TensorType], nodes: [Node]) {
        self.name = name
        self.parameterPrefix = parameterPrefix
        self.inputs = inputs
        self.outputs = outputs
        self.types = types
        self.nodes = nodes
    }

    public func type(_ v: ValueID) -> TensorType { types[v.index] }

    public var parameters: [Parameter] { nodes.flatMap(\.parameters) }
}

/// A whole spec after checking: what `strata compile --emit ir` prints.
public struct CheckedModel: Sendable {
    public let name: String
    public let scope: DimScope
    public let networks: [Graph]
    /// Role to network name, from `train:`.
    public let trainBindings: [String: String]

    public init(name: String, scope: DimScope, networks: [Graph], trainBindings: [String: String]) {
        self.name = name
        self.scope = scope
        self.networks = networks
        self.trainBindings = trainBindings
    }

    public func network(_ name: String) -> Graph? { networks.first { $0.name == name } }
}
