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
    public var isSketch: Bool { inner.isSketch }

    public func run(_ x: UnsafePointer<Float>, residuals: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>,
                    pool: ThreadPool) {
        let (channels, pixels, size) = (shape[1], shape.dropFirst(2).reduce(1, *), ChannelBlocks.size)
        let blocks = ChannelBlocks.blocks(channels), buffer = buffer
        // One job per block of an image.
        pool.parallelFor(shape[0] * blocks) { job, _ in
            let (b, block) = (job / blocks, job % blocks), first = block * size
            ChannelBlocks.move(plain: buffer + (b * channels + first) * pixels, blocked: UnsafeMutablePointer(mutating: x + job * pixels * size),
                               count: min(size, channels - first), pixels: pixels, intoBlocks: false)
        }
        inner.run(buffer, residuals: residuals, output: output, pool: pool)
    }
}
