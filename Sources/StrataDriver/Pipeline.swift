import Foundation
import StrataCheck
import StrataDiagnostics
import StrataIR
import StrataOptimize
import StrataSyntax

/// The pipeline as one readable function per verb. Each verb stops at the
/// earliest phase that answers it.
public enum Pipeline {
    public static let version = "0.1.0"

    /// Reads, decodes, resolves and shape-checks one spec: every problem found.
    public static func check(_ file: SourceFile) -> DiagnosticSet { compile(file).diagnostics }

    /// The checked model of one spec, when it has no errors, and every
    /// problem found. Shapes are checked only once every name resolves, so
    /// that a misspelt name is not also reported as a string of type errors.
    public static func compile(_ file: SourceFile) -> (model: CheckedModel?, diagnostics: DiagnosticSet) {
        var diagnostics = DiagnosticSet()
        let root: YAMLNode
        switch YAMLReader(file: file).read() {
        case .success(let read):
            root = read.root
            for d in read.problems { diagnostics.add(d) }
        case .failure(let d):
            diagnostics.add(d)
            return (nil, diagnostics)
        }
        let (spec, decodeDiagnostics) = SpecDecoder.decode(root)
        diagnostics.add(contentsOf: decodeDiagnostics)
        guard let spec else { return (nil, diagnostics) }
        let (resolved, resolveDiagnostics) = Resolver.resolve(spec)
        diagnostics.add(contentsOf: resolveDiagnostics)
        guard !diagnostics.hasErrors else { return (nil, diagnostics) }
        let (model, checkDiagnostics) = Checker.check(resolved)
        diagnostics.add(contentsOf: checkDiagnostics)
        return (model, diagnostics)
    }

    /// Checks every spec named by `paths` (files, or directories searched for
    /// *.yaml and *.yml); a path that cannot be read is a usage error.
    public static func check(paths: [String]) throws -> CheckReport {
        let files = try SpecFiles.expand(paths)
        var diagnostics = DiagnosticSet()
        for path in files {
            diagnostics.add(contentsOf: check(try SpecFiles.load(path)))
        }
        return CheckReport(files: files.count, diagnostics: diagnostics)
    }
}

extension Pipeline {
    /// The checked model of the spec at `path`, with `--network` and `--dims`
    /// applied; a spec with errors throws them as `SpecErrors` (exit 1).
    public static func load(path: String, network: String?, dims: String?) throws -> LoadedModel {
        let binding = try dims.map(DimsBinding.parse)
        let (checked, diagnostics) = compile(try SpecFiles.load(path))
        guard var model = checked, !diagnostics.hasErrors else { throw SpecErrors(diagnostics: diagnostics) }
        if let binding { model = try binding.apply(to: model) }
        var networks = model.networks
        if let network {
            guard let g = model.network(network) else {
                throw UsageError("\(model.name) has no network '\(network)'; its networks: \(model.networks.map(\.name).joined(separator: ", "))")
            }
            networks = [g]
        }
        return LoadedModel(model: model, networks: networks, warnings: diagnostics, dims: binding)
    }
}

/// A checked model with the networks and dims a verb was asked about.
public struct LoadedModel: Sendable {
    public let model: CheckedModel
    public let networks: [Graph]
    public let warnings: DiagnosticSet
    public let dims: DimsBinding?

    /// `--emit ir`.
    public var ir: String {
        IRPrinter.print(CheckedModel(name: model.name, scope: model.scope, networks: networks, trainBindings: model.trainBindings))
    }

    public var summaryText: String { Summary.text(model, networks: networks, dims: dims) }

    /// `--emit optimized`: each network after the rewrites, then what fused
    /// and what did not, and why.
    public func optimized(rewriteLimit: Int?) throws -> String {
        var out = "model \(model.name)\n"
        for graph in networks {
            let result = try Optimizer.optimize(graph, rewriteLimit: rewriteLimit)
            out += "\n" + IRPrinter.print(result.graph, scope: model.scope)
            out += "  kernels: \(result.graph.nodes.count) (from \(graph.nodes.count) layers)\n"
            out += result.applied.map { "  rewrote \($0)\n" }.joined()
            out += result.missed.map { "  \($0)\n" }.joined()
        }
        return out
    }
    public var summaryJSON: String { Summary.json(model, networks: networks, dims: dims) }
}

/// A spec that does not check: its diagnostics, for a verb that needs a
/// checked model.
public struct SpecErrors: Error, Sendable {
    public let diagnostics: DiagnosticSet
}

public struct CheckReport: Sendable {
    public let files: Int
    public var diagnostics: DiagnosticSet

    public init(files: Int, diagnostics: DiagnosticSet) {
        self.files = files
        self.diagnostics = diagnostics
    }
}

/// A problem with the command line or the file system rather than a spec:
/// exit code 2.
public struct UsageError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
