import Foundation
import StrataIR
import StrataSymbolic

/// `--dims N=1,H=64`: values for some or all of a spec's dims.
public struct DimsBinding: Sendable {
    public let values: [(name: String, value: Int)]

    public init(values: [(name: String, value: Int)]) { self.values = values }

    /// Parses `N=1,H=64`; a malformed list is a usage error.
    public static func parse(_ text: String) throws -> DimsBinding {
        var values: [(String, Int)] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pieces.count == 2, !pieces[0].isEmpty, let v = Int(pieces[1]) else {
                throw UsageError("--dims takes NAME=INTEGER pairs separated by commas, as in N=1,H=64; found '\(part)'")
            }
            values.append((pieces[0], v))
        }
        return DimsBinding(values: values)
    }

    /// The model with these dims fixed, after checking that each names a dim
    /// of the spec (a usage error otherwise) and satisfies its constraints
    /// (an input error, exit 1).
    public func apply(to model: CheckedModel) throws -> CheckedModel {
        var real: [String: Int] = [:]
        for (name, v) in values {
            guard model.scope.names.contains(name) else {
                let known = model.scope.names.isEmpty ? "the spec has no dims" : "its dims are \(model.scope.names.joined(separator: ", "))"
                throw UsageError("--dims names '\(name)', which is not a dim of \(model.name); \(known)")
            }
            let c = model.scope.constraint(name)
            var broken: [String] = []
            if v < 1 { broken.append("dims are positive") }
            if v < c.min { broken.append("`min: \(c.min)`") }
            if c.multipleOf > 1 && v % c.multipleOf != 0 { broken.append("`multiple_of: \(c.multipleOf)`") }
            if !broken.isEmpty { throw InputError("--dims \(name)=\(v) breaks \(broken.joined(separator: " and ")) of dim \(name)") }
            real[name] = v
        }
        return model.specialized(model.scope.binding(real: real) ?? [:])
    }
}

/// An input the user gave is wrong (not the spec): exit code 1.
public struct InputError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
