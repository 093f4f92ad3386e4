import Foundation
import StrataIR
import StrataKernels
import StrataOptimize
import StrataRuntime
import StrataSymbolic

/// The execution plans of one network, built once per set of dims and
/// reused for every call with the same input shapes.
public final class PlanCache: @unchecked Sendable {
    let model: CheckedModel
    let network: String
    let parameters: [String: Tensor]
    let threads: Int
    private var plans: [[String: Int]: ExecutionPlan] = [:]
    /// How many plans were built: one per distinct set of dims.
    public private(set) var built = 0

    public init(model: CheckedModel, network: String, parameters: [String: Tensor], threads: Int) {
        self.model = model
        self.network = network
        self.parameters = parameters
        self.threads = threads
    }

    /// The plan for these dim values (names as the spec's dims).
    public func plan(for binding: [String: Int]) throws -> ExecutionPlan {
        if let plan = plans[binding] { return plan }
        guard let concrete = model.specialized(binding).network(network) else {
            throw UsageError("no network \(network)")
        }
        try requireConcrete(concrete, verb: "planning")
        let plan = try ExecutionPlan(graph: try Optimizer.optimize(concrete).graph, parameters: parameters, threads: threads)
        plans[binding] = plan
        built += 1
        return plan
    }
}

/// Every dim of the graph must have a value: `--dims` names the missing ones.
func requireConcrete(_ graph: Graph, verb: String) throws {
    let unbound = Set(graph.types.flatMap { $0.shape.compactMap { $0.constant == nil ? $0 : nil } }.flatMap(\.symbols))
    if !unbound.isEmpty {
        throw UsageError("\(verb) needs every dim fixed: add --dims \(unbound.sorted().map { "\($0)=\($0 == "N" ? 1 : 64)" }.joined(separator: ","))")
    }
}

extension LoadedModel {
    /// `--emit plan`: each network's kernels, buffers and arena, with
    /// parameters initialised from `seed` (they decide no part of the plan).
    public func plan(threads: Int, seed: UInt64 = 0) throws -> String {
        var out = "model \(model.name)\n"
        for graph in networks {
            try requireConcrete(graph, verb: "--emit plan")
            let optimized = try Optimizer.optimize(graph).graph
            let plan = try ExecutionPlan(graph: optimized, parameters: Initializers.initialize(graph, seed: seed), threads: threads)
            out += "\n" + PlanReport.text(plan, scope: model.scope)
        }
        return out
    }
}

/// The text of `--emit plan`.
enum PlanReport {
    static func text(_ plan: ExecutionPlan, scope: DimScope) -> String {
        let g = plan.graph
        var out = "plan \(g.name) (\(plan.threads) thread\(plan.threads == 1 ? "" : "s"))\n"
        for (name, v) in g.inputs {
            out += "  input  \(name) %\(v.index) \(g.type(v).display(scope))\(slot(plan, v))\n"
        }
        for (i, step) in plan.steps.enumerated() {
            let names = step.nodes.map { "\($0.op.name) \($0.path)" }.joined(separator: " + "), fused = step.nodes.flatMap(\.fused)
            out += "  \(String(format: "%3d", i))  \(names) -> %\(step.output.index) \(g.type(step.output).display(scope))"
            out += slot(plan, step.output) + (step.inPlace ? " in place" : "") + "\n"
            out += "       \(step.summary)"
            if !fused.isEmpty { out += " (fused: \(fused.joined(separator: ", ")))" }
            out += "\n"
        }
        for (name, v) in g.outputs {
            out += "  output \(name) %\(v.index)\(slot(plan, v))\n"
        }
        let fast = plan.steps.filter { $0.kind == .fast }.count
        let aliases = plan.steps.filter { $0.kind == .alias }.count
        out += "  kernels: \(plan.kernelCount) (\(fast) fast, \(plan.kernelCount - fast) reference), aliases: \(aliases), "
        out += "in place: \(plan.steps.filter(\.inPlace).count)\n"
        out += "  arena: \(bytes(plan.arenaFloats * 4)) (one buffer per value: \(bytes(plan.naiveFloats * 4)))\n"
        return out
    }

    private static func slot(_ plan: ExecutionPlan, _ v: ValueID) -> String {
        guard let offset = plan.offsets[v.index] else { return "" }
        return " @\(offset * 4)"
    }

    static func bytes(_ n: Int) -> String {
        if n < 1024 { return "\(n) B" }
        if n < 1024 * 1024 { return String(format: "%.1f KB", Double(n) / 1024) }
        return String(format: "%.1f MB", Double(n) / 1024 / 1024)
    }
}
