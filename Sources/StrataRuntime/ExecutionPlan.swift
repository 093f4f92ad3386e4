import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import StrataIR
import StrataKernels

/// An optimized graph with every dim fixed, planned once for running many
/// times: a kernel per node (see `KernelSelector`), weights packed, and
/// every value at a fixed offset of one arena allocated up front. Running
/// it allocates nothing on the fast path.
public final class ExecutionPlan: @unchecked Sendable {
    public struct Step: Sendable {
        public enum Kind: Sendable, Equatable {
            case fast
            /// No work: the output is the input under another shape.
            case alias
            case reference
        }

        public let node: Node
        /// The 1x1 convolution run band by band with `node` (one kernel, a
        /// `ConvolutionChain`): `node`'s output never reaches the arena.
        public let chained: Node?
        public let kind: Kind
        /// What runs: `gemm conv 3x3 [shift/channel, relu]`.
        public let summary: String
        /// The output overwrites an input's (or a residual's) memory.
        public let inPlace: Bool
        /// Spread over the pool's threads; a small step runs on the calling
        /// thread alone, where waking the workers would cost more than it saves.
        public let parallel: Bool
        let kernel: PreparedKernel?
        let residuals: [ValueID]

        /// The value the step writes.
        public var output: ValueID { (chained ?? node).output }
        /// The nodes the step runs.
        public var nodes: [Node] { [node] + (chained.map { [$0] } ?? []) }

        init(node: Node, chained: Node? = nil, kind: Kind, summary: String, inPlace: Bool, parallel: Bool, kernel: PreparedKernel?,
             residuals: [ValueID]) {
            (self.node, self.chained, self.kind, self.summary) = (node, chained, kind, summary)
            (self.inPlace, self.parallel, self.kernel, self.residuals) = (inPlace, parallel, kernel, residuals)
        }
    }

    public let graph: Graph
    public let steps: [Step]
    public let threads: Int
    /// Floats in the arena, and in one buffer per value without reuse.
    public let arenaFloats: Int
    public let naiveFloats: Int
    /// Each float value's offset in the arena, by value index.
    public let offsets: [Int?]
    let executor: Executor
    let pool: ThreadPool
    private let serial: ThreadPool
    private let arena: UnsafeMutablePointer<Float>

    public init(graph: Graph, parameters: [String: Tensor], threads: Int) throws {
        self.graph = graph
        self.threads = threads
        pool = ThreadPool(threads: threads)
        serial = threads == 1 ? pool : ThreadPool(threads: 1)
        let selector = KernelSelector(graph: graph, parameters: parameters)
        let shape = { (v: ValueID) in graph.type(v).shape.map { $0.constant ?? 0 } }
        let size = { (v: ValueID) in shape(v).reduce(1, *) }
        let isFloat = { (v: ValueID) in graph.type(v).dtype == .f32 }

        var lastUse = [Int](repeating: -1, count: graph.types.count), uses = [Int](repeating: 0, count: graph.types.count)
        for (i, node) in graph.nodes.enumerated() {
            for v in node.reads { (lastUse[v.index], uses[v.index]) = (i, uses[v.index] + 1) }
        }
        for (_, v) in graph.outputs { (lastUse[v.index], uses[v.index]) = (graph.nodes.count, uses[v.index] + 1) }

        // Kernels first: where a value's channels lie depends on the kernels that write and read it. Sketched, then
        // prepared once for that layout.
        var choices: [(choice: KernelChoice, chained: Node?)?] = []
        var chainedUpTo = -1
        for (i, node) in graph.nodes.enumerated() {
            if i <= chainedUpTo {
                choices.append(nil)
                continue
            }
            // The node run with this one as one step, which writes its output: the next, or the one after a
            // reshape or flatten of this one's output.
            let nodes = graph.nodes
            let middle = i + 2 < nodes.count && [.reshape, .flatten].contains(nodes[i + 1].op) ? nodes[i + 1] : nil
            let j = i + (middle == nil ? 1 : 2)
            let chain = j < nodes.count ? try selector.chain(node, through: middle, nodes[j], uses: uses) : nil
            if chain != nil { chainedUpTo = j }
            choices.append((try chain ?? selector.choose(node, sketch: true), chain == nil ? nil : nodes[j]))
        }
        let (blocked, unblocking) = ChannelBlocking.layout(graph: graph, choices: choices)
        for (i, node) in graph.nodes.enumerated() {
            let input = blocked.contains(node.inputs[0].index) && !unblocking.contains(i), output = blocked.contains(node.output.index)
            // Prepared from its sketch, chosen again with its blocks, or without the blocks it was chosen for.
            guard Self.sketched(choices[i]) || blocked.contains(node.inputs[0].index) || output || Self.gainsFromBlocks(choices[i])
            else { continue }
            var choice = try selector.choose(node, blocked: (input, output), settled: true)
            if unblocking.contains(i), case .fast(let kernel, let residuals, let summary) = choice {
                choice = .fast(UnblockedInput(kernel, input: shape(node.inputs[0])), residuals: residuals,
                               summary: "unblock, then " + summary)
            }
            choices[i] = (choice, nil)
        }
        let floats = { (v: ValueID) in blocked.contains(v.index) ? ChannelBlocks.floats(shape(v)) : size(v) }

        var memory = MemoryPlan(values: graph.types.count)
        for (_, v) in graph.inputs where isFloat(v) { memory.allocate(v.index, size: size(v), at: -1) }
        var steps: [Step] = []
        for (i, node) in graph.nodes.enumerated() {
            guard let (choice, chained) = choices[i] else {
                for v in node.reads { memory.read(v.index, at: i - 1) }
                continue
            }
            let input = node.inputs[0]
            // Whether the storage of `v` is read by nothing after this step.
            func dies(_ v: ValueID) -> Bool {
                guard let s = memory.storageOf[v.index] else { return false }
                return memory.storageOf.indices.allSatisfy { memory.storageOf[$0] != s || lastUse[$0] <= i }
            }
            var inPlace = false
            // About 10 µs of work or more: worth a wake-up of the workers. Reading 512 KB is, even with few
            // operations: a pool after a convolution that both cores wrote half of took LeNet 33 µs on one
            // thread, reading the other core's half from its L2, and 16 on two.
            let parallel = threads > 1 && (max(node.macs(in: graph).constant ?? 0, size(node.output) / 8) >= 1 << 18
                                           || size(input) >= 1 << 17)
            switch choice {
            case .alias:
                memory.share(node.output.index, with: input.index)
                steps.append(Step(node: node, kind: .alias, summary: "alias", inPlace: false, parallel: false, kernel: nil, residuals: []))
            case .fast(let kernel, let residuals, let summary):
                precondition(!kernel.isSketch, "a sketch in the plan")
                let out = (chained ?? node).output
                if kernel.elementwise, isFloat(input), size(input) == size(out), dies(input) {
                    memory.share(out.index, with: input.index)
                    inPlace = true
                } else if !kernel.elementwise, !summary.contains("shuffled"),
                          let r = residuals.first(where: { size($0) == size(out) && dies($0) }),
                          node.inputs.allSatisfy({ memory.storageOf[$0.index] != memory.storageOf[r.index] }) {
                    // Each output element is written where its residual was just read.
                    memory.share(out.index, with: r.index)
                    inPlace = true
                } else {
                    memory.allocate(out.index, size: floats(out), at: i)
                }
                steps.append(Step(node: node, chained: chained, kind: .fast, summary: summary, inPlace: inPlace,
                                  parallel: parallel, kernel: kernel, residuals: residuals))
            case .reference:
                memory.allocate(node.output.index, size: size(node.output), at: i)
                steps.append(Step(node: node, kind: .reference, summary: "reference " + node.op.name
                                  + (node.epilogue.isEmpty ? "" : " with its epilogue"), inPlace: false, parallel: false,
                                  kernel: nil, residuals: []))
            }
            for v in node.reads { memory.read(v.index, at: i) }
        }
        for (_, v) in graph.outputs { memory.read(v.index, at: graph.nodes.count) }
        self.steps = steps
        // The fast kernels hold their weights packed: keeping every loaded tensor too would hold the weights twice
        // for as long as the plan lives.
        let referenced = Set(steps.filter { $0.kind == .reference }.flatMap { $0.nodes.flatMap(\.parameters).map(\.name) })
        executor = Executor(graph: graph, parameters: parameters.filter { referenced.contains($0.key) })
        arenaFloats = memory.place()
        naiveFloats = graph.types.indices.filter { isFloat(ValueID($0)) }.reduce(0) { $0 + size(ValueID($1)) }
        offsets = memory.storageOf.map { $0.map { memory.storages[$0].offset } }
        arena = Self.allocateArena(bytes: max(arenaFloats, 1) * 4).bindMemory(to: Float.self, capacity: max(arenaFloats, 1))
        arena.initialize(repeating: 0, count: max(arenaFloats, 1))
        let scratch = steps.compactMap { $0.kernel?.scratchFloats }.max() ?? 0
        pool.reserveScratch(scratch)
        serial.reserveScratch(scratch)
    }

    deinit {
        arena.deallocate()
    }

    private static func sketched(_ choice: (choice: KernelChoice, chained: Node?)?) -> Bool {
        guard case (.fast(let kernel, _, _), nil)? = choice else { return false }
        return kernel.isSketch
    }

    /// Whether a choice is a kernel with a faster twin for values out of blocks (Winograd's lanes form of a
    /// layer the row form takes too).
    private static func gainsFromBlocks(_ choice: (choice: KernelChoice, chained: Node?)?) -> Bool {
        guard case (.fast(let kernel, _, _), nil)? = choice else { return false }
        return (kernel as? LanesWinogradKernel)?.rowFormApplies == true
    }

    /// The arena, on 2 MB pages where the system gives them: kernels touch
    /// one line in each of dozens of channel planes hundreds of KB apart,
    /// which on 4 KB pages is one TLB miss per line.
    private static func allocateArena(bytes: Int) -> UnsafeMutableRawPointer {
        let huge = 2 << 20
        guard bytes >= huge else { return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64) }
        let rounded = (bytes + huge - 1) / huge * huge
        let p = UnsafeMutableRawPointer.allocate(byteCount: rounded, alignment: huge)
        #if os(Linux)
        // Advice only: where transparent huge pages are off it fails, and 4 KB pages serve.
        _ = madvise(p, rounded, MADV_HUGEPAGE)
        #endif
        return p
    }

    /// Kernels that run per call: aliases cost nothing.
    public var kernelCount: Int { steps.filter { $0.kind != .alias }.count }

    /// The outputs by name. `seed` drives the noise of `reparameterize`.
    /// Calls must not overlap: the plan owns one arena.
    public func run(_ inputs: [String: Value], seed: UInt64) throws -> [String: Value] {
        try execute(inputs, seed: seed, seconds: nil)
    }

    /// `run`, adding each step's wall time to `seconds[step]`: where a
    /// network spends its time (`strata bench --profile`).
    public func run(_ inputs: [String: Value], seed: UInt64, seconds: inout [Double]) throws -> [String: Value] {
        if seconds.count != steps.count { seconds = [Double](repeating: 0, count: steps.count) }
        return try seconds.withUnsafeMutableBufferPointer { try execute(inputs, seed: seed, seconds: $0.baseAddress) }
    }

    private func execute(_ inputs: [String: Value], seed: UInt64, seconds: UnsafeMutablePointer<Double>?) throws -> [String: Value] {
        var ids: [Int: Value] = [:]
        for (name, v) in graph.inputs {
            guard let value = inputs[name] else { throw RuntimeError("no value for input '\(name)'") }
            if let offset = offsets[v.index] {
                value.tensor.data.withUnsafeBufferPointer { arena.advanced(by: offset).update(from: $0.baseAddress!, count: $0.count) }
            } else {
                ids[v.index] = value
            }
        }
        var noise = Random(seed: seed, stream: "reparameterize")
        for (index, step) in steps.enumerated() {
            let node = step.node
            let started = seconds == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            defer { seconds?[index] += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }
            switch step.kind {
            case .alias:
                continue
            case .fast:
                guard let kernel = step.kernel, let x = offsets[node.inputs[0].index], let y = offsets[step.output.index] else {
                    throw RuntimeError("internal: \(node.path) has no arena slot")
                }
                let residuals = try step.residuals.map { v -> UnsafePointer<Float> in
                    guard let o = offsets[v.index] else { throw RuntimeError("internal: residual of \(node.path) has no arena slot") }
                    return UnsafePointer(arena + o)
                }
                kernel.run(arena + x, residuals: residuals, output: arena + y, pool: step.parallel ? pool : serial)
            case .reference:
                var values = [Value?](repeating: nil, count: graph.types.count)
                for case .add(let v) in node.epilogue { values[v.index] = try value(v, ids: ids) }
                let result = try executor.reference(node, node.inputs.map { try value($0, ids: ids) }, values: values, noise: &noise)
                guard let y = offsets[node.output.index] else { throw RuntimeError("internal: \(node.path) has no arena slot") }
                result.tensor.data.withUnsafeBufferPointer { arena.advanced(by: y).update(from: $0.baseAddress!, count: $0.count) }
            }
        }
        var outputs: [String: Value] = [:]
        for (name, v) in graph.outputs { outputs[name] = try value(v, ids: ids) }
        return outputs
    }

    /// A copy of a value out of the arena.
    private func value(_ v: ValueID, ids: [Int: Value]) throws -> Value {
        guard let offset = offsets[v.index] else {
            guard let value = ids[v.index] else { throw RuntimeError("internal: %\(v.index) has no arena slot") }
            return value
        }
        let shape = graph.type(v).shape.map { $0.constant ?? 0 }
        return .float(Tensor(shape: shape, data: Array(UnsafeBufferPointer(start: arena + offset, count: shape.reduce(1, *)))))
    }
}
