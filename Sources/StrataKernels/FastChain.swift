/// A convolution and the 1x1 convolution that alone reads its output, run
/// band by band in one job: the first layer's band of output rows is
/// stored into the worker's scratch, laid out as the second layer's band
/// (channel planes `planeSize` apart), and the second reads it from there.
/// The intermediate tensor never reaches memory: SRCNN's 9x9 layer writes
/// 16 MB per image at 256 x 256 that its 1x1 64 -> 32 layer read back,
/// both at memory speed. Both kernels are built with `rows(...)` rows per band.
public final class ConvolutionChain: @unchecked Sendable {
    let first: ConvolutionKernel, second: ConvolutionKernel

    /// nil unless the second is a 1x1 layer of stride 1 without padding
    /// that reads all of the first's output, neither is grouped or
    /// shuffled, and both have the same rows per band.
    public init?(first: ConvolutionKernel, second: ConvolutionKernel) {
        let band = second.band
        guard first.groups == 1, second.groups == 1, first.shuffle == 1, second.shuffle == 1,
              second.inputShape == first.outputShape, second.outputSize == first.outputSize,
              band.taps.count == band.channels, band.reach == 1, band.stride == (1, 1), band.top == 0, band.left == 0,
              band.width == band.columns, first.band.rows == band.rows
        else { return nil }
        (self.first, self.second) = (first, second)
    }

    /// Output rows per band for a first layer of `channels` output channels
    /// and rows of `columns`: the band of its output (about 256 KB) stays in L2.
    public static func rows(channels: Int, columns: Int) -> Int { max(1, 65_536 / max(1, channels * columns)) }

    /// Whether an intermediate of `floats` per image is worth keeping out of
    /// memory: below about 1 MB it stays in the caches between the layers anyway.
    public static func worthwhile(floats: Int) -> Bool { floats >= 1 << 18 }
}

extension ConvolutionChain: PreparedKernel {
    /// The second layer's band (the first's output), then the first's.
    public var scratchFloats: Int { second.band.floats + first.band.floats }
    public var isSketch: Bool { first.isSketch || second.isSketch }

    public func run(_ x: UnsafePointer<Float>, residuals: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>,
                    pool: ThreadPool) {
        let (ho, wo) = second.outputSize, band = second.band
        let bands = (ho + band.rows - 1) / band.rows
        let firstBlocks = (first.outChannels + first.band.blockRows - 1) / first.band.blockRows
        let secondBlocks = (second.outChannels + band.blockRows - 1) / band.blockRows
        let firstTile = first.epilogue.tile(residuals: []), secondTile = second.epilogue.tile(residuals: residuals)
        pool.reserveScratch(scratchFloats)
        first.packed.withUnsafeBufferPointer { firstWeights in
            second.packed.withUnsafeBufferPointer { secondWeights in
                pool.parallelFor(first.inputShape[0] * bands) { job, worker in
                    let b = job / bands, oy0 = (job % bands) * band.rows, rows = min(band.rows, ho - oy0)
                    let middle = pool.scratch(worker)
                    // As the second layer's own band copy would leave it.
                    band.clearPastEnd(middle)
                    self.first.compute(x, image: b, group: 0, firstRow: oy0, rowBlocks: 0..<firstBlocks,
                                       packed: firstWeights.baseAddress!, buffer: middle + band.floats, tile: firstTile,
                                       output: middle, origin: 0, rowStride: band.planeSize, shuffle: nil)
                    band.multiply(rows: rows, buffer: middle, rowBlocks: 0..<secondBlocks, packed: secondWeights.baseAddress!,
                                  epilogue: secondTile, output: output, origin: b * self.second.outChannels * ho * wo + oy0 * wo,
                                  rowStride: ho * wo)
                }
            }
        }
    }
}
