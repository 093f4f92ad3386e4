import Foundation
import StrataIR
import StrataKernels
import StrataOptimize
import StrataRuntime
import StrataSymbolic

/// `strata bench`: latency and throughput of the optimized network on the
/// fast kernels, with the achieved GFLOP/s (2 FLOPs per MAC).
public enum Bench {
    public struct Row: Sendable {
        public let batch: Int
        public let threads: Int
        public let milliseconds: Double
        public let samplesPerSecond: Double
        public let gflops: Double
        /// With `--profile`: each step's mean time, slowest first.
        public let profile: [StepTime]
    }

    public struct StepTime: Sendable {
        public let step: Int
        public let path: String
        public let summary: String
        public let milliseconds: Double
        public let gflops: Double
    }

    public static func measure(spec: String, network: String?, batches: [Int], threads: [Int], dims: String?,
                               profile: Bool = false, minimumSeconds: Double = 1) throws -> [Row] {
        try RunFailure.translating {
            let model = try Pipeline.load(path: spec, network: nil, dims: nil).model
            let graph = try Runner.choose(model, network)
            let fixed = try dims.map(DimsBinding.parse)?.values ?? []
            var rows: [Row] = []
            let parameters = Initializers.initialize(graph, seed: 0)
            for t in threads {
                let plans = PlanCache(model: model, network: graph.name, parameters: parameters, threads: t)
                for batch in batches {
                    let binding = DimsBinding(values: fixed.filter { $0.name != "N" } + [("N", batch)])
                    let specialized = try binding.apply(to: model)
                    guard let concrete = specialized.network(graph.name) else { continue }
                    try requireConcrete(concrete, verb: "bench")
                    var rng = Random(seed: 1)
                    var inputs: [String: Value] = [:]
                    for (name, v) in concrete.inputs {
                        let shape = concrete.type(v).shape.map { $0.constant ?? 1 }
                        inputs[name] = concrete.type(v).dtype == .i32
                            ? .ids(IntTensor(shape: shape, data: [Int32](repeating: 0, count: shape.reduce(1, *))))
                            : .float(Tensor(shape: shape, data: rng.normal(count: shape.reduce(1, *))))
                    }
                    let flops = 2 * Double(concrete.macs().constant ?? 0)
                    let plan = try plans.plan(for: try DimBinder.bind(graph, scope: model.scope, inputs: inputs.mapValues(\.shape)))
                    _ = try plan.run(inputs, seed: 0)
                    var times: [Double] = []
                    let start = Date()
                    while times.count < 3 || Date().timeIntervalSince(start) < minimumSeconds {
                        let t0 = Date()
                        _ = try plan.run(inputs, seed: 0)
                        times.append(Date().timeIntervalSince(t0))
                    }
                    times.sort()
                    let median = times[times.count / 2]
                    var steps: [StepTime] = []
                    if profile {
                        var seconds: [Double] = []
                        for _ in times { _ = try plan.run(inputs, seed: 0, seconds: &seconds) }
                        steps = plan.steps.indices.map { i in
                            let s = seconds[i] / Double(times.count)
                            let nodes = plan.steps[i].nodes
                            let macs = Double(nodes.reduce(0) { $0 + ($1.macs(in: plan.graph).constant ?? 0) })
                            return StepTime(step: i, path: nodes.map(\.path).joined(separator: " + "), summary: plan.steps[i].summary,
                                            milliseconds: s * 1000, gflops: s > 0 ? 2 * macs / s / 1e9 : 0)
                        }.sorted { $0.milliseconds > $1.milliseconds }
                    }
                    rows.append(Row(batch: batch, threads: t, milliseconds: median * 1000, samplesPerSecond: Double(batch) / median,
                                    gflops: flops / median / 1e9, profile: steps))
                }
            }
            return rows
        }
    }

    public static func table(_ rows: [Row], model: String) -> String {
        var out = "\(model)\nbatch  threads  latency ms  samples/s  GFLOP/s\n"
        for r in rows {
            out += String(format: "%5d  %7d  %10.3f  %9.1f  %7.1f\n", r.batch, r.threads, r.milliseconds, r.samplesPerSecond, r.gflops)
        }
        for r in rows where !r.profile.isEmpty {
            let total = r.profile.reduce(0) { $0 + $1.milliseconds }
            out += "\nprofile, batch \(r.batch), \(r.threads) thread\(r.threads == 1 ? "" : "s") (mean per run, slowest first)\n"
            out += "step        ms      %  GFLOP/s  node: kernel\n"
            for s in r.profile {
                out += String(format: "%4d  %8.3f  %5.1f  %7.1f  ", s.step, s.milliseconds, 100 * s.milliseconds / max(total, 1e-12), s.gflops)
                out += "\(s.path): \(s.summary)\n"
            }
        }
        return out
    }
}
