import CKernelSupport

/// A layout of [N, C, H, W] values between layers on the lanes tile (see
/// `ChannelBlocking`): [N, C/16 rounded up, H, W, 16], the channels of a
/// pixel side by side in blocks of 16. The producer
/// stores each pixel's 16 channels as one vector instead of 16 values a
/// plane apart, and the consumer copies its band in rows of 16 floats per
/// pixel instead of a few floats per channel row. The lanes of a last,
/// partial block are never written nor read.
public enum ChannelBlocks {
    public static let size = 16

    /// Blocks that hold `channels` channels.
    public static func blocks(_ channels: Int) -> Int { (channels + size - 1) / size }

    /// Floats of `channels` channels of `pixels` pixels, blocked.
    public static func floats(channels: Int, pixels: Int) -> Int { blocks(channels) * size * pixels }

    /// Floats of a blocked [N, C, H, W] value.
    public static func floats(_ shape: [Int]) -> Int {
        shape[0] * floats(channels: shape[1], pixels: shape.dropFirst(2).reduce(1, *))
    }

    /// The planes of `channels` channels and the floats per pixel of each:
    /// blocked, a block of 16 channels is a plane 16 times as large.
    public static func planes(_ channels: Int, blocked: Bool) -> (count: Int, size: Int) {
        blocked ? (blocks(channels), size) : (channels, 1)
    }

    /// Whether a layer of `outputChannels` in `groups` groups may read and
    /// write blocks: its output channels fill a tile's 16 lanes, one group.
    public static func fit(outputChannels: Int, groups: Int) -> Bool { outputChannels >= size && groups == 1 }

    /// Where element (b, c, p) of an [N, C, P] value (P = H * W) lies in its blocked form.
    public static func index(_ b: Int, _ c: Int, _ p: Int, channels: Int, pixels: Int) -> Int {
        ((b * blocks(channels) + c / size) * pixels + p) * size + c % size
    }

    /// Copies `pixels` pixels' channels of one block (16 floats each,
    /// `source` on) into the first `count` channels' rows, `stride` floats
    /// apart from `target` on, 16 floats to a row (zeros past `pixels`):
    /// a 16 x 16 transpose, as four 8 x 8 ones. With `sourceStride` the
    /// other way: rows of 16 pixels of `pixels` channels, a plane apart,
    /// into `count` pixels of a block.
    @inline(__always)
    public static func transpose(_ source: UnsafePointer<Float>, pixels: Int = size, sourceStride: Int = size,
                                 into target: UnsafeMutablePointer<Float>, stride: Int, count: Int = size) {
        for h in 0..<2 {
            for half in 0..<2 {
                strata_transpose8(source + 8 * h * sourceStride + 8 * half, sourceStride, max(0, min(8, pixels - 8 * h)),
                                  target + 8 * half * stride + 8 * h, stride, max(0, min(8, count - 8 * half)))
            }
        }
    }

    /// Moves one block's `count` channels of `pixels` pixels between a
    /// plain layout (channel planes from `plain`) and its blocked one (16
    /// floats a pixel from `blocked`): into the blocks when `intoBlocks`,
    /// out of them otherwise. 16 pixels at a time (the last 16 overlap the
    /// others); a map of fewer pixels float by float.
    public static func move(plain: UnsafeMutablePointer<Float>, blocked: UnsafeMutablePointer<Float>, count: Int, pixels: Int,
                            intoBlocks: Bool) {
        guard pixels >= size else {
            for j in 0..<count {
                for p in 0..<pixels {
                    if intoBlocks { blocked[p * size + j] = plain[j * pixels + p] } else { plain[j * pixels + p] = blocked[p * size + j] }
                }
            }
            return
        }
        var p = 0
        while p < pixels {
            p = min(p, pixels - size)
            if intoBlocks {
                transpose(plain + p, pixels: count, sourceStride: pixels, into: blocked + p * size, stride: size)
            } else {
                transpose(blocked + p * size, into: plain + p, stride: pixels, count: count)
            }
            p += size
        }
    }
}

/// A kernel that may read or write values in channel blocks: ordinary and
/// transposed convolutions.
public protocol ChannelBlockable: PreparedKernel {
    /// Which of input and output may be blocked.
    var blocks: (input: Bool, output: Bool) { get }
    /// Whether reading blocks pays when the output is not blocked: at
    /// stride 1, where the plain tile's band is copied out of the blocks,
    /// or on a narrow map, where the channels go in the lanes anyway (see
    /// `DirectBand.lanes`). At a stride on a wider map the lanes tile pays
    /// for its scalar stores.
    var readsBlocksAlone: Bool { get }
    /// Whether blocks put it on the lanes tile, which gains from them
    /// (it copies whole pixels and stores each as one vector): reading
    /// them whatever it writes, and writing them. Elsewhere (the plain
    /// tile's band, Winograd's form) blocks only cost a transpose.
    var lanes: (reading: Bool, writing: Bool) { get }
}

extension ConvolutionKernel: ChannelBlockable {}
extension TransposedKernel: ChannelBlockable {}
