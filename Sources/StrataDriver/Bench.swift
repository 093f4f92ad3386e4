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
            for batch in batches {
                let binding = DimsBinding(values: fixed.filter { $0.name != "N" } + [("N", batch)])
                let specialized = try binding.apply(to: model)
                guard let concrete = specialized.network(graph.name) else { continue }
                let unbound = concrete.types.flatMap { $0.shape.compactMap { $0.constant == nil ? $0 : nil } }.flatMap(\.symbols)
                if !unbound.isEmpty {
                    throw UsageError("bench needs every dim fixed: add --dims \(Set(unbound).sorted().map { "\($0)=64" }.joined(separator: ","))")
                }
                let parameters = Initializers.initialize(concrete, seed: 0)
                let optimized = try Optimizer.optimize(concrete).graph
                var rng = Random(seed: 1)
                var inputs: [String: Value] = [:]
                for (name, v) in concrete.inputs {
                    let shape = concrete.type(v).shape.map { $0.constant ?? 1 }
                    inputs[name] = concrete.type(v).dtype == .i32
                        ? .ids(IntTensor(shape: shape, data: [Int32](repeating: 0, count: shape.reduce(1, *))))
                        : .float(Tensor(shape: shape, data: rng.normal(count: shape.reduce(1, *))))
                }
                let flops = 2 * Double(concrete.macs().constant ?? 0)
                for t in threads {
                    let executor = Executor(graph: optimized, parameters: parameters, pool: ThreadPool(threads: t))
                    _ = try executor.run(inputs, seed: 0)
                    var times: [Double] = []
                    let start = Date()
                    while times.count < 3 || Date().timeIntervalSince(start) < minimumSeconds {
                        let t0 = Date()
                        _ = try executor.run(inputs, seed: 0)
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
