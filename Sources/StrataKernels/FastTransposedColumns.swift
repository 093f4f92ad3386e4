import CKernelSupport
/// A transposed convolution of kernel 4, stride 2 and padding 1 with one
/// output channel (a VAE decoder's last layer) as a GEMM and a sum: every
/// input pixel times the weights gives the 16 values its taps add to the
/// output (col = X Wᵀ, the pixels 6 at a time on the lanes tile, the 16
/// taps in its lanes, read from a plain or a blocked input where they
/// lie), stored tap by tap into zero-bordered planes; each output pixel is
/// then the sum of the four taps that reach it (col2im), 16 of a row's
/// pixels of one parity at a time, through the epilogue. Its phases on the
/// direct form (`TransposedKernel`) compute the same products on a one-row
/// tile whose band is copied, and cut into strips, per phase. Tested
/// against `Convolution.transposed` in FastKernelTests.
public final class TransposedColumnsKernel: @unchecked Sendable {
    public let inputShape: [Int]
    public let outputShape: [Int]
    let epilogue: FusedEpilogue
    /// Whether the input holds its channels in blocks (`ChannelBlocks`).
    let blocked: Bool
    /// Wᵀ, [C x 16]: tap (ky, kx) of channel c at c * 16 + 4 ky + kx.
    let packed: [Float]
    /// Bytes from a pixel's value of channel 0 to its value of channel c.
    let depthOffsets: [Int]
    /// Each input pixel's place in a tap's plane: (H + 2) x (W + 2) with a border of zeros.
    let places: [Int]
    /// Each input pixel's first value from the image's, in floats (for `strata_lanes`).
    let pixelOffsets: [Int]
    let pitch: Int, planeSize: Int
    /// A sketch: the form and layout facts alone, no weights (see `PreparedKernel.isSketch`).
    public let isSketch: Bool

    /// Whether a transposed convolution of `weight` [C, O, kH, kW] runs
    /// here: kernel 4, stride 2, padding 1, no output padding, dilation or
    /// groups, one output channel.
    public static func applies(weight: [Int], stride: (Int, Int), padding: (Int, Int), outputPadding: (Int, Int),
                               dilation: (Int, Int), groups: Int) -> Bool {
        weight.count == 4 && weight[1] == 1 && weight[2] == 4 && weight[3] == 4 && stride == (2, 2) && padding == (1, 1)
            && outputPadding == (0, 0) && dilation == (1, 1) && groups == 1
    }

    /// weight: [C, 1, 4, 4]; `scale` multiplies the output channel's weights.
    public init(input: [Int], weight: Tensor, scale: [Float]? = nil, epilogue: FusedEpilogue, blocked: Bool = false, sketch: Bool = false) {
        isSketch = sketch
        let (n, c, h, w) = (input[0], input[1], input[2], input[3])
        inputShape = input
        outputShape = [n, 1, 2 * h, 2 * w]
        self.epilogue = epilogue
        self.blocked = blocked
        let s = scale?[0] ?? 1
        packed = sketch ? [] : weight.data.map { $0 * s }
        let size = ChannelBlocks.size
        depthOffsets = (0..<c).map { 4 * (blocked ? (($0 / size) * h * w * size + $0 % size) : $0 * h * w) }
        let pitch = w + 2
        self.pitch = pitch
        // Room past the last row for the 16-float loads that start near its end.
        planeSize = (h + 2) * pitch + 2 * size
        places = (0..<(h * w)).map { p in (p / w + 1) * pitch + p % w + 1 }
        pixelOffsets = (0..<(h * w)).map { $0 * (blocked ? size : 1) }
    }

    /// No shift for the products (the epilogue comes after the sum).
    private static let noShift = [Float](repeating: 0, count: ChannelBlocks.size)

    /// Floats of scratch each worker needs: the 16 taps' planes.
    public var scratchFloats: Int { 16 * planeSize }

    public var form: String { " by columns" + (blocked ? ", from blocks of 16" : "") }

    public func run(_ x: UnsafePointer<Float>, residuals: [UnsafePointer<Float>] = [], output: UnsafeMutablePointer<Float>,
                    pool: ThreadPool) {
        let tile = epilogue.tile(residuals: residuals)
        pool.reserveScratch(scratchFloats)
        pool.parallelFor(inputShape[0]) { b, worker in
            self.compute(x, image: b, columns: pool.scratch(worker), epilogue: tile, output: output)
        }
    }

    /// Image `b`: its columns, then its output.
    func compute(_ x: UnsafePointer<Float>, image b: Int, columns: UnsafeMutablePointer<Float>, epilogue: TileEpilogue,
                 output: UnsafeMutablePointer<Float>) {
        let (c, h, w) = (inputShape[1], inputShape[2], inputShape[3]), pixels = h * w, size = ChannelBlocks.size
        // The borders of each plane, and the room past them, are zeros (the GEMM writes inside them).
        for tap in 0..<16 {
            let plane = columns + tap * planeSize
            plane.update(repeating: 0, count: pitch)
            for i in 1...h {
                plane[i * pitch] = 0
                plane[i * pitch + w + 1] = 0
            }
            (plane + (h + 1) * pitch).update(repeating: 0, count: planeSize - (h + 1) * pitch)
        }
        let image = x + b * (blocked ? ChannelBlocks.floats(channels: c, pixels: pixels) : c * pixels)
        packed.withUnsafeBufferPointer { weights in
        depthOffsets.withUnsafeBufferPointer { offsets in
        places.withUnsafeBufferPointer { placed in
            // A pixel's 16 taps scattered a plane apart in one call for the image (Swift's tile stored them one by one).
            pixelOffsets.withUnsafeBufferPointer { pix in
                strata_lanes(PackedGEMM.wide, pixels, pix.baseAddress!, UnsafeRawPointer(image).assumingMemoryBound(to: CChar.self),
                             offsets.baseAddress!, c, weights.baseAddress!, 0, columns, placed.baseAddress!, planeSize, 0, Self.noShift,
                             nil, strata_function(kind: Int32(STRATA_NONE), slope: 0))
            }
        }
        }
        }
        // Output (2m + qy, 2n + qx) is reached from input rows m, m - 1 (taps 1, 3) or m, m + 1 (taps 2, 0), and
        // likewise along the row: four planes, each read 16 pixels of a row at a time.
        let (ho, wo) = (2 * h, 2 * w)
        let reach = [[(0, 1), (-1, 3)], [(0, 2), (1, 0)]]
        for y in 0..<ho {
            let (m, qy) = (y / 2, y % 2)
            for qx in 0..<2 {
                for n0 in Swift.stride(from: 0, to: w, by: size) {
                    var v = SIMD16<Float>()
                    for (di, ky) in reach[qy] {
                        for (dj, kx) in reach[qx] {
                            let at = columns + (4 * ky + kx) * planeSize + (m + di + 1) * pitch + n0 + dj + 1
                            v += UnsafeRawPointer(at).loadUnaligned(as: SIMD16<Float>.self)
                        }
                    }
                    let count = min(size, w - n0), first = (b * ho + y) * wo + 2 * n0 + qx
                    v = epilogue.apply(v, row: 0, width: count, contiguousAt: nil) { first + 2 * $0 }
                    for j in 0..<count { output[first + 2 * j] = v[j] }
                }
            }
        }
    }
}

extension TransposedColumnsKernel: PreparedKernel {}

extension TransposedColumnsKernel: ChannelBlockable {
    /// A pixel's channels are the depth its row of the GEMM reads: in
    /// blocks, neighbours; its one output channel fills no block.
    public var blocks: (input: Bool, output: Bool) { (true, false) }
    public var readsBlocksAlone: Bool { true }
    public var lanes: (reading: Bool, writing: Bool) { (true, false) }
}
