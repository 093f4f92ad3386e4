import ArgumentParser
import Foundation
import StrataDriver

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the optimized network on the fast kernels: latency, throughput and GFLOP/s.",
        discussion: "Parameters are freshly initialised and inputs random; each setting runs at least a second after a warm-up run, and the median is reported."
    )

    @Argument(help: "The spec file.")
    var spec: String

    @Option(help: "The network (needed when the spec has several).")
    var network: String?

    @Option(help: "Batch sizes, comma-separated.")
    var batch: String = "1"

    @Option(help: "Thread counts, comma-separated.")
    var threads: String = "1"

    @Option(help: ArgumentHelp("Fix the other dims, as in H=64,W=64.", valueName: "NAME=VALUE,..."))
    var dims: String?

    @Flag(help: "Also time each step of the plan: where the time goes, slowest first.")
    var profile = false

    func run() throws {
        func list(_ s: String, _ name: String) throws -> [Int] {
            let values = s.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !values.isEmpty, values.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--\(name) takes positive integers, as in 1,32") }
            return values
        }
        let rows = try Failures.reporting {
            try Bench.measure(spec: spec, network: network, batches: try list(batch, "batch"), threads: try list(threads, "threads"), dims: dims,
                             profile: profile)
        }
        print(Bench.table(rows, model: spec), terminator: "")
    }
}
