import CPNG
import Foundation
import StrataKernels

/// PNG files through libpng's simplified API, which handles every PNG kind
/// (gray, RGB, RGBA, palette, 8 and 16 bit) and reports errors as messages
/// instead of long jumps.
public enum PNGImage {
    /// An image as [1, C, H, W] in [0, 1], C = 1, 2, 3 or 4 as stored.
    public static func read(path: String) throws -> Tensor {
        guard let data = FileManager.default.contents(atPath: path) else { throw RuntimeError(.io, "cannot read \(path)") }
        var image = png_image()
        image.version = strata_png_version()
        let started = data.withUnsafeBytes { raw in
            png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count)
        }
        guard started != 0 else { throw RuntimeError("\(path) is not a readable PNG: \(message(image))") }
        defer { png_image_free(&image) }
        let channels = Int(strata_png_channels(image.format))
        let sixteen = image.format & strata_png_flag_linear() != 0
        image.format = strata_png_format(Int32(channels), sixteen ? 1 : 0)
        let (h, w) = (Int(image.height), Int(image.width))
        guard h > 0, w > 0, h * w * channels <= 1 << 26 else { throw RuntimeError("\(path): image size \(w)x\(h) is out of range") }
        var pixels: [Float]
        if sixteen {
            var buffer = [UInt16](repeating: 0, count: h * w * channels)
            let ok = data.withUnsafeBytes { _ in png_image_finish_read(&image, nil, &buffer, 0, nil) }
            guard ok != 0 else { throw RuntimeError("\(path) is a damaged PNG: \(message(image))") }
            pixels = buffer.map { Float($0) / 65535 }
        } else {
            var buffer = [UInt8](repeating: 0, count: h * w * channels)
            let ok = data.withUnsafeBytes { _ in png_image_finish_read(&image, nil, &buffer, 0, nil) }
            guard ok != 0 else { throw RuntimeError("\(path) is a damaged PNG: \(message(image))") }
            pixels = buffer.map { Float($0) / 255 }
        }
        // Interleaved HWC to planar CHW.
        var chw = [Float](repeating: 0, count: pixels.count)
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<channels { chw[(c * h + y) * w + x] = pixels[(y * w + x) * channels + c] }
            }
        }
        return Tensor(shape: [1, channels, h, w], data: chw)
    }

    /// Writes [C, H, W] with values in [0, 1] (clamped) as an 8-bit PNG.
    public static func write(_ t: Tensor, to path: String) throws {
        let (c, h, w) = (t.shape[0], t.shape[1], t.shape[2])
        guard [1, 2, 3, 4].contains(c) else {
            throw RuntimeError("an image needs 1, 2, 3 or 4 channels, but this output has \(c)")
        }
        var pixels = [UInt8](repeating: 0, count: h * w * c)
        for y in 0..<h {
            for x in 0..<w {
                for ch in 0..<c {
                    let v = t.data[(ch * h + y) * w + x]
                    pixels[(y * w + x) * c + ch] = UInt8((max(0, min(1, v.isNaN ? 0 : v)) * 255).rounded())
                }
            }
        }
        var image = png_image()
        image.version = strata_png_version()
        image.width = UInt32(w)
        image.height = UInt32(h)
        image.format = strata_png_format(Int32(c), 0)
        var size: png_alloc_size_t = 0
        guard png_image_write_to_memory(&image, nil, &size, 0, pixels, 0, nil) != 0 else {
            throw RuntimeError(.io, "cannot encode \(path): \(message(image))")
        }
        var out = [UInt8](repeating: 0, count: Int(size))
        guard png_image_write_to_memory(&image, &out, &size, 0, pixels, 0, nil) != 0 else {
            throw RuntimeError(.io, "cannot encode \(path): \(message(image))")
        }
        try AtomicFile.write(Data(out.prefix(Int(size))), to: path)
    }

    private static func message(_ image: png_image) -> String {
        var m = image.message
        return withUnsafeBytes(of: &m) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// A batch [N, C, H, W] tiled into one [C, H', W'] image, as
    /// torchvision's make_grid does: ceil(sqrt(N)) columns, 2 pixels of
    /// padding around every tile.
    public static func grid(_ batch: Tensor, padding: Int = 2) -> Tensor {
        let (n, c, h, w) = (batch.shape[0], batch.shape[1], batch.shape[2], batch.shape[3])
        if n == 1 { return batch.reshaped([c, h, w]) }
        var columns = 1
        while columns * columns < n { columns += 1 }
        let rows = (n + columns - 1) / columns
        let gh = rows * (h + padding) + padding, gw = columns * (w + padding) + padding
        var out = Tensor(zeros: [c, gh, gw])
        for i in 0..<n {
            let top = (i / columns) * (h + padding) + padding, left = (i % columns) * (w + padding) + padding
            for ch in 0..<c {
                for y in 0..<h {
                    for x in 0..<w {
                        out.data[(ch * gh + top + y) * gw + left + x] = batch.data[((i * c + ch) * h + y) * w + x]
                    }
                }
            }
        }
        return out
    }
}
