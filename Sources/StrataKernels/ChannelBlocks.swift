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
}

/// A kernel that may read or write values in channel blocks: ordinary and
/// transposed convolutions on the lanes tile.
public protocol ChannelBlockable: PreparedKernel {
    /// Which of input and output may be blocked.
    var blocks: (input: Bool, output: Bool) { get }
    /// Whether the channels go in the lanes without blocks too (narrow maps,
    /// see `DirectBand.lanes`); on wider ones, reading blocks pays only when
    /// the output is blocked too.
    var narrow: Bool { get }
}

extension ConvolutionKernel: ChannelBlockable {}
extension TransposedKernel: ChannelBlockable {}
