import Foundation

/// The closed set of ops a spec can use. Everything about one op (its
/// attributes, arity and documentation) is in `Op.spec`, in OpCatalog.swift.
public enum Op: String, CaseIterable, Sendable {
    case conv1d
    case conv2d
    case convTranspose2d = "conv_transpose2d"
    case linear
    case embedding
    case maxPool1d = "max_pool1d"
    case avgPool1d = "avg_pool1d"
    case maxPool2d = "max_pool2d"
    case avgPool2d = "avg_pool2d"
    case globalAvgPool = "global_avg_pool"
    case globalMaxPool = "global_max_pool"
    case batchNorm = "batch_norm"
    case instanceNorm = "instance_norm"
    case groupNorm = "group_norm"
    case layerNorm = "layer_norm"
    case dropout
    case relu
    case sigmoid
    case tanh
    case silu
    case elu
    case gelu
    case leakyRelu = "leaky_relu"
    case prelu
    case softmax
    case logSoftmax = "log_softmax"
    case flatten
    case reshape
    case permute
    case concat
    case add
    case mul
    case scale
    case pad
    case upsample
    case pixelShuffle = "pixel_shuffle"
    case reparameterize

    /// The name a spec writes.
    public var name: String { rawValue }

    public init?(name: String) { self.init(rawValue: name) }
}

/// The kind of value an attribute takes, which decides how it is read.
public enum AttributeType: Sendable, Equatable {
    /// One integer expression.
    case int
    /// One integer expression, or a list of one per spatial axis.
    case perAxis(Int)
    /// Like `perAxis`, or `same` / `valid`.
    case padding(Int)
    /// A number, or a param holding one.
    case float
    case bool
    case choice([String])
    /// A list of integer expressions, one of which may be -1.
    case shape
    /// A list of distinct axis indices.
    case axes
    /// An int, `[h, w]` or `[top, bottom, left, right]`.
    case padAmount

    /// How the JSON Schema and the docs describe it.
    public var description: String {
        switch self {
        case .int: return "an integer expression"
        case .perAxis(let n): return n == 1 ? "an integer expression" : "an integer expression or a list of \(n)"
        case .padding(let n): return n == 1 ? "an integer expression, `same` or `valid`" : "an integer expression, a list of \(n), `same` or `valid`"
        case .float: return "a number or a param name"
        case .bool: return "true or false"
        case .choice(let c): return c.map { "`\($0)`" }.joined(separator: " or ")
        case .shape: return "a list of integer expressions (one may be -1)"
        case .axes: return "a list of axis indices"
        case .padAmount: return "an integer, [h, w] or [top, bottom, left, right]"
        }
    }
}

/// What an attribute is when the spec does not say.
public enum AttributeDefault: Sendable, Equatable {
    case required
    case int(Int)
    case float(Double)
    case bool(Bool)
    case choice(String)
    /// The value of another attribute, as pooling's stride defaults to its kernel.
    case sameAs(String)

    public var description: String {
        switch self {
        case .required: return "required"
        case .int(let v): return String(v)
        case .float(let v): return Self.format(v)
        case .bool(let v): return String(v)
        case .choice(let c): return c
        case .sameAs(let a): return "= \(a)"
        }
    }

    /// `1e-05` as a person writes it: `1e-5`.
    static func format(_ v: Double) -> String {
        var s = String(v)
        if let r = s.range(of: "e-0") { s.replaceSubrange(r, with: "e-") }
        return s
    }
}

public struct AttributeSpec: Sendable {
    public let name: String
    public let type: AttributeType
    public let defaultValue: AttributeDefault
    public let doc: String

    public init(_ name: String, _ type: AttributeType, _ defaultValue: AttributeDefault, _ doc: String) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.doc = doc
    }
}

/// How many values an op reads.
public enum Arity: Sendable, Equatable {
    case one
    case exactly(Int)
    case atLeast(Int)

    public func accepts(_ n: Int) -> Bool {
        switch self {
        case .one: return n == 1
        case .exactly(let k): return n == k
        case .atLeast(let k): return n >= k
        }
    }

    public var description: String {
        switch self {
        case .one: return "one input"
        case .exactly(let k): return "exactly \(k) inputs"
        case .atLeast(let k): return "\(k) or more inputs"
        }
    }
}

/// One op's definition: the single place its surface syntax is described.
public struct OpSpec: Sendable {
    public let op: Op
    /// The attribute a scalar or list value sets (`- leaky_relu: 0.2`).
    public let primary: String?
    public let attributes: [AttributeSpec]
    public let arity: Arity
    /// Input and output shapes in the notation of the catalog table.
    public let signature: String
    public let summary: String

    public func attribute(_ name: String) -> AttributeSpec? { attributes.first { $0.name == name } }
}
