import StrataKernels

/// A kernel that reads plain [N, C, H, W] run on a blocked input: the
/// input is first copied out of its blocks into a buffer of the kernel's
/// own, then the kernel reads that. It lets a run of blocked layers end
/// at a layer that cannot take blocks (EDSR's upsampling convolution,
/// whose pixel shuffle scatters its stores) at the cost of one pass over
/// the value, instead of ending the run before the layers that gain.
final class UnblockedInput: @unchecked Sendable {
    let inner: PreparedKernel
    let shape: [Int]
    private let buffer: UnsafeMutablePointer<Float>

    /// `shape`: the [N, C, H, W] of the input.
    init(_ inner: PreparedKernel, input shape: [Int]) {
        (self.inner, self.shape) = (inner, shape)
        buffer = .allocate(capacity: max(1, shape.reduce(1, *)))
        buffer.initialize(repeating: 0, count: max(1, shape.reduce(1, *)))
    }

    deinit { buffer.deallocate() }
}

extension UnblockedInput: PreparedKernel {
    public var scratchFloats: Int { inner.scratchFloats }

    public func run(_ x: UnsafePointer<Float>, residuals: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>,
                    pool: ThreadPool) {
        let (channels, pixels, size) = (shape[1], shape.dropFirst(2).reduce(1, *), ChannelBlocks.size)
        let blocks = ChannelBlocks.blocks(channels), buffer = buffer
        // One job per block of an image; its pixels 64 at a time (4 KB, in L1), each channel's 64 values stored
        // side by side: storing each pixel's 16 values to 16 planes at once cost a pass over EDSR's 64 channels
        // at 128 x 128 4 ms, 4 ns a value.
        pool.parallelFor(shape[0] * blocks) { job, _ in
            let (b, block) = (job / blocks, job % blocks), first = block * size, count = min(size, channels - first)
            let source = x + job * pixels * size, target = buffer + (b * channels + first) * pixels
            for start in stride(from: 0, to: pixels, by: 64) {
                let end = min(pixels, start + 64)
                for j in 0..<count {
                    let plane = target + j * pixels
                    for p in start..<end { plane[p] = source[p * size + j] }
                }
            }
        }
        inner.run(buffer, residuals: residuals, output: output, pool: pool)
    }
}
