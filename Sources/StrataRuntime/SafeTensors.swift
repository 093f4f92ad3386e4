import Foundation
import StrataKernels

/// The safetensors format: an 8-byte little-endian header length, a JSON
/// header naming each tensor's dtype, shape and byte range, then the data.
/// F32 is read as is, F16 and BF16 are widened to f32, I32 and I64 are read
/// as integers. Every length and offset is checked against the file before
/// anything is allocated, so a corrupt file is an error, never a crash.
public enum SafeTensors {
    public enum Element: Sendable {
        case float(Tensor)
        case integer(shape: [Int], values: [Int64])

        public var shape: [Int] {
            switch self {
            case .float(let t): return t.shape
            case .integer(let s, _): return s
            }
        }
    }

    /// A header larger than this is not a weights file.
    public static let maxHeaderBytes = 100 << 20

    public static func read(path: String) throws -> [String: Element] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RuntimeError(.io, "cannot read \(path)")
        }
        return try read(data, name: path)
    }

    public static func read(_ data: Data, name: String) throws -> [String: Element] {
        let bytes = [UInt8](data)
        func fail(_ why: String) -> RuntimeError { RuntimeError("\(name) is not a valid safetensors file: \(why)") }
        guard bytes.count >= 8 else { throw fail("it is \(bytes.count) bytes long, shorter than the 8-byte header length") }
        let headerLength = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(maxHeaderBytes), Int(headerLength) <= bytes.count - 8 else {
            throw fail("the header claims \(headerLength) bytes, but the file has \(bytes.count - 8) after the length")
        }
        let dataStart = 8 + Int(headerLength)
        guard let header = try? JSONSerialization.jsonObject(with: Data(bytes[8..<dataStart])) as? [String: Any] else {
            throw fail("the header is not a JSON object")
        }
        let payload = bytes.count - dataStart
        var result: [String: Element] = [:]
        for (key, value) in header where key != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else {
                throw fail("tensor '\(key)' lacks a dtype, a shape or two data offsets")
            }
            guard shape.allSatisfy({ $0 >= 0 }), let count = checkedProduct(shape) else {
                throw fail("tensor '\(key)' has an invalid shape \(shape)")
            }
            let width: Int
            switch dtype {
            case "F32", "I32": width = 4
            case "F16", "BF16": width = 2
            case "I64", "F64": width = 8
            default: throw fail("tensor '\(key)' has dtype \(dtype); Strata reads F32, F16, BF16, F64, I32 and I64")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, end >= begin, end <= payload else {
                throw fail("tensor '\(key)' claims bytes \(begin)..<\(end) of a \(payload)-byte data section")
            }
            guard end - begin == count * width else {
                throw fail("tensor '\(key)' of shape \(shape) and dtype \(dtype) needs \(count * width) bytes, but its range holds \(end - begin)")
            }
            let raw = bytes[(dataStart + begin)..<(dataStart + end)]
            switch dtype {
            case "I32", "I64":
                result[key] = .integer(shape: shape, values: integers(raw, width: width))
            default:
                result[key] = .float(Tensor(shape: shape, data: floats(raw, dtype: dtype)))
            }
        }
        return result
    }

    /// Writes float32 tensors (and int64 scalars such as batch norm's
    /// counter) with keys sorted, to a temporary file renamed into place.
    public static func write(_ tensors: [String: Element], to path: String) throws {
        var header: [String: Any] = ["__metadata__": ["format": "pt"]]
        var body = Data()
        for key in tensors.keys.sorted() {
            guard let element = tensors[key] else { continue }
            let begin = body.count
            switch element {
            case .float(let t):
                for v in t.data { withUnsafeBytes(of: v.bitPattern.littleEndian) { body.append(contentsOf: $0) } }
                header[key] = ["dtype": "F32", "shape": t.shape, "data_offsets": [begin, body.count]]
            case .integer(let shape, let values):
                for v in values { withUnsafeBytes(of: v.littleEndian) { body.append(contentsOf: $0) } }
                header[key] = ["dtype": "I64", "shape": shape, "data_offsets": [begin, body.count]]
            }
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // The data section starts 8-byte aligned, as the reference writer does.
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var file = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        file.append(body)
        try AtomicFile.write(file, to: path)
    }

    static func checkedProduct(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            let (p, o) = n.multipliedReportingOverflow(by: d)
            if o || p > Int(Int32.max) * 64 { return nil }
            n = p
        }
        return n
    }

    private static func floats(_ raw: ArraySlice<UInt8>, dtype: String) -> [Float] {
        let b = Array(raw)
        switch dtype {
        case "F32":
            return stride(from: 0, to: b.count, by: 4).map {
                Float(bitPattern: UInt32(b[$0]) | UInt32(b[$0 + 1]) << 8 | UInt32(b[$0 + 2]) << 16 | UInt32(b[$0 + 3]) << 24)
            }
        case "F64":
            return stride(from: 0, to: b.count, by: 8).map { i in
                Float(Double(bitPattern: (0..<8).reduce(UInt64(0)) { $0 | UInt64(b[i + $1]) << (8 * UInt64($1)) }))
            }
        case "BF16":
            return stride(from: 0, to: b.count, by: 2).map { Float(bitPattern: (UInt32(b[$0]) | UInt32(b[$0 + 1]) << 8) << 16) }
        default:
            return stride(from: 0, to: b.count, by: 2).map { Float(Float16(bitPattern: UInt16(b[$0]) | UInt16(b[$0 + 1]) << 8)) }
        }
    }

    private static func integers(_ raw: ArraySlice<UInt8>, width: Int) -> [Int64] {
        let b = Array(raw)
        return stride(from: 0, to: b.count, by: width).map { i in
            let u = (0..<width).reduce(UInt64(0)) { $0 | UInt64(b[i + $1]) << (8 * UInt64($1)) }
            return width == 4 ? Int64(Int32(truncatingIfNeeded: u)) : Int64(bitPattern: u)
        }
    }
}

/// Writes a file through a temporary sibling and a rename, so that a reader
/// never sees half a file and a failed write leaves the old one intact.
enum AtomicFile {
    static func write(_ data: Data, to path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw RuntimeError(.io, "cannot write \(path)")
        }
        if rename(temporary, path) != 0 {
            try? FileManager.default.removeItem(atPath: temporary)
            throw RuntimeError(.io, "cannot write \(path)")
        }
    }
}
