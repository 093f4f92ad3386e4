/// A dense float32 tensor in row-major (C) order: the currency of every kernel.
public struct Tensor: Sendable, Equatable {
    public var shape: [Int]
    public var data: [Float]

    /// `data` must hold exactly the elements of `shape`; the file readers
    /// check that before they build a tensor.
    public init(shape: [Int], data: [Float]) {
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.shape = shape
        self.data = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    public var count: Int { data.count }
    public var rank: Int { shape.count }

    /// Row-major strides, in elements.
    public var strides: [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            s[i] = acc
            acc *= shape[i]
        }
        return s
    }

    /// The same elements under another shape of the same size.
    public func reshaped(_ newShape: [Int]) -> Tensor { Tensor(shape: newShape, data: data) }
}

/// Token ids, for `embedding`.
public struct IntTensor: Sendable, Equatable {
    public var shape: [Int]
    public var data: [Int32]

    public init(shape: [Int], data: [Int32]) {
        self.shape = shape
        self.data = data
    }
}

/// A problem only the data shows, such as a token id outside the vocabulary.
public struct KernelError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
