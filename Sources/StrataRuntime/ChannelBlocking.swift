import StrataIR
import StrataKernels

/// Which values hold their channels in blocks of 16 (`ChannelBlocks`): those
/// a convolution with its channels in the lanes writes and only such
/// convolutions read, as their input. Neither a network's output nor a
/// residual is blocked, and nothing else (a pool, a reshape, a reference
/// kernel) reads the layout. The VAE encoder's first layer stores its
/// pixels' channels as vectors, and its second copies rows of 16 floats
/// per pixel instead of 14 floats per channel row.
enum ChannelBlocking {
    static func values(graph: Graph, choices: [(choice: KernelChoice, chained: Node?)?]) -> Set<Int> {
        func convolution(_ i: Int) -> ConvolutionKernel? {
            guard case (.fast(let kernel as ConvolutionKernel, _, _), nil)?? = choices[i] else { return nil }
            return kernel
        }
        var readers = [[Int]](repeating: [], count: graph.types.count)
        for (i, node) in graph.nodes.enumerated() {
            for v in node.reads { readers[v.index].append(i) }
        }
        let outputs = Set(graph.outputs.map { $0.value.index })
        var blocked = Set<Int>()
        for (i, node) in graph.nodes.enumerated() where convolution(i)?.blocks.output == true && !outputs.contains(node.output.index) {
            let v = node.output
            let read = readers[v.index]
            guard !read.isEmpty, read.allSatisfy({ r in
                convolution(r)?.blocks.input == true && graph.nodes[r].reads.filter { $0 == v } == [graph.nodes[r].inputs[0]]
            }) else { continue }
            blocked.insert(v.index)
        }
        return blocked
    }
}
