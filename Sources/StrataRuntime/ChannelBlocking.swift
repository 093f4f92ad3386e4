import StrataIR
import StrataKernels

/// Which values hold their channels in blocks of 16 (`ChannelBlocks`):
/// as in ONNX Runtime's NCHWc, whole runs of a network (ResNet's every
/// stage, from its first convolution to the global pool) pass their
/// values in blocks, so that each convolution copies its band as whole
/// pixels and stores each pixel's 16 channels as one vector.
///
/// A value is blocked when a convolution (ordinary, transposed or
/// Winograd's) that can write blocks writes it (see `ChannelBlockable`; a
/// transposed one of a 1x1 input, a linear layer, when its channels fill
/// whole blocks), it is not a network output, its writer's residuals are
/// blocked, the blocks gain something (they carry on a blocked residual
/// stream, a reader is on the lanes tile or is a pool or linear layer, or
/// the writer is on the lanes tile and a reader takes them; blocks cost
/// Winograd's form and the plain tile a transpose and gain them nothing),
/// and every reader either reads a copy out of the blocks
/// (`UnblockedInput`: any fast kernel reading it as its input alone) or
/// takes the layout:
/// - a convolution that can read blocks, reading it as its input, and
///   either at stride 1 (the plain tile, Winograd's form), on a narrow map
///   or writing blocks itself (at a stride on a wider map a lanes tile
///   with scalar stores is slower than the plain one);
/// - a convolution reading it as a residual, writing blocks itself (the
///   residual is read where the output is stored; so a blocked output's
///   residuals are blocked too);
/// - a global pool;
/// - a linear layer (a convolution of its whole input), or a flatten
///   whose readers are all linear layers (their weights' columns follow
///   the blocks), when the channels fill whole blocks: a partial block's
///   unused lanes hold garbage that a weight of zero would not cancel
///   (0 x NaN).
/// Each condition on another value's layout is met by removing values
/// from the set of candidates until none breaks one.
enum ChannelBlocking {
    /// The blocked values, and the nodes that read one through `UnblockedInput`.
    static func layout(graph: Graph, choices: [(choice: KernelChoice, chained: Node?)?]) -> (values: Set<Int>, unblocking: Set<Int>) {
        /// Node i's kernel and residuals, unless it is chained to another.
        func fast(_ i: Int) -> (kernel: PreparedKernel, residuals: [ValueID])? {
            guard case (.fast(let kernel, let residuals, _), nil)?? = choices[i] else { return nil }
            return (kernel, residuals)
        }
        func convolution(_ i: Int) -> ChannelBlockable? { fast(i)?.kernel as? ChannelBlockable }
        var readers = [[Int]](repeating: [], count: graph.types.count), writer = [Int?](repeating: nil, count: graph.types.count)
        for (i, node) in graph.nodes.enumerated() {
            for v in Set(node.reads) { readers[v.index].append(i) }
            writer[node.output.index] = i
        }
        let outputs = Set(graph.outputs.map { $0.value.index })
        /// Whether `v` is [N, C, H, W] with C a multiple of 16: a linear layer's weights that read or write it in
        /// blocks have a place for every column, no lane of a partial block.
        func wholeBlocks(_ v: ValueID) -> Bool {
            let shape = graph.type(v).shape
            return shape.count == 4 && (shape[1].constant ?? 0) % ChannelBlocks.size == 0
        }
        /// Whether node r flattens a value of whole blocks for linear layers alone.
        func flattensForLinears(_ r: Int) -> Bool {
            let node = graph.nodes[r]
            guard node.op == .flatten, case (.alias, nil)?? = choices[r], wholeBlocks(node.inputs[0]),
                  graph.type(node.output).shape.count == 2, !outputs.contains(node.output.index),
                  !readers[node.output.index].isEmpty
            else { return false }
            return readers[node.output.index].allSatisfy { fast($0)?.kernel is LinearKernel }
        }
        /// Whether node r is a convolution of its whole input, of whole blocks, run as a linear layer (a `linear`
        /// op on a 4-D value acts on its last axis, and reads blocks only through a flatten).
        func linear(_ r: Int) -> Bool {
            graph.nodes[r].op == .conv2d && fast(r)?.kernel is LinearKernel && wholeBlocks(graph.nodes[r].inputs[0])
        }
        func globalPool(_ r: Int) -> Bool {
            [.globalAvgPool, .globalMaxPool].contains(graph.nodes[r].op) && fast(r)?.kernel is PoolingKernel
        }
        /// Whether node i is a transposed convolution of a 1x1 input run as a linear layer (see `KernelSelector`)
        /// whose output is of whole blocks: its outputs' columns may be placed in blocks.
        func linearTransposed(_ i: Int) -> Bool {
            graph.nodes[i].op == .convTranspose2d && fast(i)?.kernel is LinearKernel && wholeBlocks(graph.nodes[i].output)
        }
        var blocked = Set(graph.nodes.indices.compactMap { i -> Int? in
            let v = graph.nodes[i].output.index
            return (convolution(i)?.blocks.output == true || linearTransposed(i)) && !outputs.contains(v) && !readers[v].isEmpty ? v : nil
        })
        /// Whether node r reads blocked value v as it is.
        func native(_ r: Int, _ v: Int) -> Bool {
            let node = graph.nodes[r]
            if let conv = convolution(r) {
                let writes = blocked.contains(node.output.index)
                let asInput = node.inputs[0].index == v, asResidual = fast(r)!.residuals.contains { $0.index == v }
                return (!asInput || conv.blocks.input && (conv.readsBlocksAlone || writes)) && (!asResidual || writes)
            }
            return node.inputs == [ValueID(v)] && (globalPool(r) || linear(r) || flattensForLinears(r))
        }
        /// Whether node r may read blocked value v through `UnblockedInput`: a kernel reading it as its input alone.
        func unblocks(_ r: Int, _ v: Int) -> Bool {
            guard let (_, residuals) = fast(r) else { return false }
            return graph.nodes[r].inputs == [ValueID(v)] && !residuals.contains(ValueID(v))
        }
        /// Whether node r, reading blocked value v as it is, gains from the blocks: on the lanes tile, a global
        /// pool, a linear layer.
        func gains(_ r: Int, _ v: Int) -> Bool {
            guard native(r, v) else { return false }
            guard let conv = convolution(r) else { return true }
            return conv.lanes.reading || conv.lanes.writing && blocked.contains(graph.nodes[r].output.index)
        }
        /// Whether blocked value v, written by node w, keeps its blocks: its residuals are blocked, every reader
        /// reads it as it is or unblocked, and blocks gain something: they carry on a blocked residual stream, a
        /// reader is on the lanes tile, or the writer is and a reader takes them (copying the value out of its
        /// blocks for readers alone costs more than the writer's vector stores gain).
        func keeps(_ v: Int, writtenBy w: Int) -> Bool {
            guard let residuals = fast(w)?.residuals, residuals.allSatisfy({ blocked.contains($0.index) }) else { return false }
            return readers[v].allSatisfy { native($0, v) || unblocks($0, v) }
                && (!residuals.isEmpty || readers[v].contains { gains($0, v) }
                    || convolution(w)?.lanes.writing ?? true && readers[v].contains { native($0, v) })
        }
        while let v = blocked.first(where: { !keeps($0, writtenBy: writer[$0]!) }) { blocked.remove(v) }
        var unblocking = Set<Int>()
        for v in blocked {
            for r in readers[v] {
                if graph.nodes[r].op == .flatten { blocked.insert(graph.nodes[r].output.index) }
                if !native(r, v) { unblocking.insert(r) }
            }
        }
        return (blocked, unblocking)
    }
}
