import StrataIR
import StrataKernels

/// Which values hold their channels in blocks of 16 (`ChannelBlocks`):
/// those a convolution with its channels in the lanes writes and that are
/// read only by such convolutions, as their input, or by a flatten whose
/// readers are linear layers (their weights' columns follow the blocks;
/// the channels must fill whole blocks, since a partial block's unused
/// lanes hold garbage that a weight of zero would not cancel). Neither a
/// network's output nor a residual is blocked, and nothing else (a pool, a
/// reference kernel) reads the layout. The VAE encoder's first layer then
/// stores its pixels' channels as vectors, its second copies rows of 16
/// floats per pixel instead of 14 floats per channel row, and stores
/// vectors too.
enum ChannelBlocking {
    static func values(graph: Graph, choices: [(choice: KernelChoice, chained: Node?)?]) -> Set<Int> {
        func kernel(_ i: Int) -> PreparedKernel? {
            guard case (.fast(let kernel, _, _), nil)?? = choices[i] else { return nil }
            return kernel
        }
        var readers = [[Int]](repeating: [], count: graph.types.count)
        for (i, node) in graph.nodes.enumerated() {
            for v in node.reads { readers[v.index].append(i) }
        }
        let outputs = Set(graph.outputs.map { $0.value.index })
        /// Whether `v` has readers, each reading it as its input only (not as a residual too), all passing `test`.
        func read(_ v: ValueID, by test: (Int) -> Bool) -> Bool {
            !outputs.contains(v.index) && !readers[v.index].isEmpty && readers[v.index].allSatisfy { r in
                graph.nodes[r].reads.filter { $0 == v } == [graph.nodes[r].inputs[0]] && test(r)
            }
        }
        /// Whether node r flattens [N, C, H, W] with C a multiple of 16 for linear layers alone.
        func flattensForLinears(_ r: Int) -> Bool {
            let node = graph.nodes[r], shape = graph.type(node.inputs[0]).shape.map { $0.constant ?? 0 }
            guard node.op == .flatten, case (.alias, nil)?? = choices[r], shape.count == 4, shape[1] % ChannelBlocks.size == 0,
                  graph.type(node.output).shape.count == 2
            else { return false }
            return read(node.output) { kernel($0) is LinearKernel }
        }
        var blocked = Set<Int>()
        for (i, node) in graph.nodes.enumerated() where (kernel(i) as? ConvolutionKernel)?.blocks.output == true {
            guard read(node.output, by: { r in (kernel(r) as? ConvolutionKernel)?.blocks.input == true || flattensForLinears(r) })
            else { continue }
            blocked.insert(node.output.index)
            for r in readers[node.output.index] where graph.nodes[r].op == .flatten { blocked.insert(graph.nodes[r].output.index) }
        }
        return blocked
    }
}
