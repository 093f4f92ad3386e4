/// Pointwise work that no producer absorbed, as one pass over memory: a
/// batch norm, activations, scales and a residual add on a tensor seen as
/// [outer, channels, inner], with per-channel values indexed by the middle
/// axis. Output may be the input (in place). Tested against the reference
/// ops in FastKernelTests.
public final class PointwiseKernel: @unchecked Sendable {
    public let outer: Int
    public let channels: Int
    public let inner: Int
    let epilogue: FusedEpilogue

    public init(outer: Int, channels: Int, inner: Int, epilogue: FusedEpilogue) {
        (self.outer, self.channels, self.inner) = (outer, channels, inner)
        self.epilogue = epilogue
    }

    public func run(_ x: UnsafePointer<Float>, residuals: [UnsafePointer<Float>] = [], output: UnsafeMutablePointer<Float>,
                    pool: ThreadPool) {
        Self.pass(x, output: output, planes: outer * channels, channels: channels, inner: inner,
                  tile: epilogue.tile(residuals: residuals), pool: pool)
    }

    /// `tile` applied to `planes` planes of `inner` values, plane p with the
    /// per-channel values of channel p % `channels`, 16 values at a time.
    static func pass(_ x: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, planes: Int, channels: Int, inner: Int,
                     tile: TileEpilogue, pool: ThreadPool) {
        // Jobs of at least 16K values, so a small tensor is not split.
        let chunk = max(16, (16_384 / 16) * 16)
        let perPlane = (inner + chunk - 1) / chunk
        pool.parallelFor(planes * perPlane) { job, _ in
            let plane = job / perPlane, start = (job % perPlane) * chunk
            let row = plane % channels
            let end = min(inner, start + chunk)
            var i = start
            while i < end {
                let width = min(16, end - i), base = plane * inner + i
                var v = SIMD16<Float>()
                if width == 16 {
                    v = UnsafeRawPointer(x + base).loadUnaligned(as: SIMD16<Float>.self)
                } else {
                    for j in 0..<width { v[j] = x[base + j] }
                }
                v = tile.apply(v, row: row, width: width, contiguousAt: width == 16 ? base : nil) { base + $0 }
                if width == 16 {
                    UnsafeMutableRawPointer(output + base).storeBytes(of: v, as: SIMD16<Float>.self)
                } else {
                    for j in 0..<width { output[base + j] = v[j] }
                }
                i += 16
            }
        }
    }
}
