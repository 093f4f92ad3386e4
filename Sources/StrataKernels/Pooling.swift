/// Reference pooling on [N, C, H, W] (1-D pooling runs with H = 1), with
/// PyTorch's window rules: max pooling ignores padding; average pooling
/// divides by the window clipped to the padded input (count_include_pad) or
/// by the real elements in it.
public enum Pooling {
    public struct Window: Sendable {
        public var kernel: (Int, Int)
        public var stride: (Int, Int)
        public var padding: (Int, Int)
        public var ceilMode: Bool

        public init(kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int), ceilMode: Bool) {
            self.kernel = kernel
            self.stride = stride
            self.padding = padding
            self.ceilMode = ceilMode
        }

        public func outputSize(_ size: Int, axis: Int) -> Int {
            let (k, s, p) = axis == 0 ? (kernel.0, stride.0, padding.0) : (kernel.1, stride.1, padding.1)
            let numerator = size + 2 * p - (k - 1) - 1 + (ceilMode ? s - 1 : 0)
            return (numerator >= 0 ? numerator / s : -((-numerator + s - 1) / s)) + 1
        }
    }

    public static func max(_ x: Tensor, _ win: Window) -> Tensor {
        pool(x, win) { values, _ in values.max() ?? 0 }
    }

    public static func average(_ x: Tensor, _ win: Window, countIncludePad: Bool) -> Tensor {
        pool(x, win) { values, padded in
            Float(values.reduce(0.0) { $0 + Double($1) } / Double(countIncludePad ? padded : values.count))
        }
    }

    /// Applies `reduce` to the real elements of every window, also given the
    /// size of the window clipped to the padded input.
    private static func pool(_ x: Tensor, _ win: Window, _ reduce: ([Float], Int) -> Float) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let ho = win.outputSize(h, axis: 0), wo = win.outputSize(w, axis: 1)
        var y = Tensor(zeros: [n, c, ho, wo])
        for plane in 0..<(n * c) {
            for oy in 0..<ho {
                let y0 = oy * win.stride.0 - win.padding.0
                let y1 = Swift.min(y0 + win.kernel.0, h + win.padding.0)
                for ox in 0..<wo {
                    let x0 = ox * win.stride.1 - win.padding.1
                    let x1 = Swift.min(x0 + win.kernel.1, w + win.padding.1)
                    let padded = (y1 - y0) * (x1 - x0)
                    var values: [Float] = []
                    for iy in Swift.max(y0, 0)..<Swift.max(Swift.min(y1, h), Swift.max(y0, 0)) {
                        for ix in Swift.max(x0, 0)..<Swift.max(Swift.min(x1, w), Swift.max(x0, 0)) {
                            values.append(x.data[(plane * h + iy) * w + ix])
                        }
                    }
                    y.data[(plane * ho + oy) * wo + ox] = values.isEmpty ? 0 : reduce(values, padded)
                }
            }
        }
        return y
    }

    /// [N, C, ...] -> [N, C] (or [N, C, 1, ...] with keepdims): mean or max over the rest.
    public static func global(_ x: Tensor, average: Bool, keepdims: Bool) -> Tensor {
        let n = x.shape[0], c = x.shape[1]
        let size = x.count / (n * c)
        var y = Tensor(zeros: [n, c] + (keepdims ? Array(repeating: 1, count: x.rank - 2) : []))
        for plane in 0..<(n * c) {
            let slice = x.data[(plane * size)..<((plane + 1) * size)]
            y.data[plane] = average ? Float(slice.reduce(0.0) { $0 + Double($1) } / Double(size)) : (slice.max() ?? 0)
        }
        return y
    }
}
