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
    }

    public static func measure(spec: String, network: String?, batches: [Int], threads: [Int], dims: String?,
                               minimumSeconds: Double = 1) throws -> [Row] {
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
                    rows.append(Row(batch: batch, threads: t, milliseconds: median * 1000, samplesPerSecond: Double(batch) / median,
                                    gflops: flops / median / 1e9))
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
        return out
    }
}
