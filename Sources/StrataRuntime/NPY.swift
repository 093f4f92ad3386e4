import Foundation
import StrataKernels

/// NumPy's .npy format: a magic string, a version, a Python-dict header
/// (`descr`, `fortran_order`, `shape`) and the raw array. Strata reads
/// little-endian float32, float64, int32 and int64 in C order and writes
/// float32.
public enum NPY {
    public static func read(path: String) throws -> Value {
        guard let data = FileManager.default.contents(atPath: path) else { throw RuntimeError(.io, "cannot read \(path)") }
        return try read(data, name: path)
    }

    public static func read(_ data: Data, name: String) throws -> Value {
        let b = [UInt8](data)
        func fail(_ why: String) -> RuntimeError { RuntimeError("\(name) is not a valid .npy file: \(why)") }
        guard b.count >= 10, b[0] == 0x93, Array(b[1..<6]) == Array("NUMPY".utf8) else { throw fail("it does not start with the NumPy magic string") }
        let major = b[6]
        let lengthBytes = major == 1 ? 2 : 4
        guard [1, 2, 3].contains(major), b.count >= 8 + lengthBytes else { throw fail("unknown format version \(major)") }
        let headerLength = (0..<lengthBytes).reduce(0) { $0 | Int(b[8 + $1]) << (8 * $1) }
        let start = 8 + lengthBytes
        guard headerLength <= b.count - start else { throw fail("the header claims \(headerLength) bytes, past the end of the file") }
        let header = String(decoding: b[start..<(start + headerLength)], as: UTF8.self)
        guard let descr = field(header, "descr"), let order = field(header, "fortran_order"), let shapeText = field(header, "shape") else {
            throw fail("the header lacks descr, fortran_order or shape: \(header.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        guard order == "False" else { throw fail("the array is in Fortran order; save it with numpy.ascontiguousarray") }
        let dims = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() ")).split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let shape = dims.compactMap { Int($0) }
        guard shape.count == dims.count, shape.allSatisfy({ $0 >= 0 }), let count = SafeTensors.checkedProduct(shape) else {
            throw fail("the shape \(shapeText) is not a tuple of sizes")
        }
        let body = start + headerLength
        let width: Int
        switch descr {
        case "<f4", "<i4": width = 4
        case "<f8", "<i8": width = 8
        default: throw fail("dtype \(descr) is not supported; use little-endian float32, float64, int32 or int64")
        }
        guard b.count - body == count * width else {
            throw fail("shape \(shape) of \(descr) needs \(count * width) bytes of data, but the file holds \(b.count - body)")
        }
        func word(_ i: Int) -> UInt64 { (0..<width).reduce(UInt64(0)) { $0 | UInt64(b[body + i * width + $1]) << (8 * UInt64($1)) } }
        switch descr {
        case "<f4": return .float(Tensor(shape: shape, data: (0..<count).map { Float(bitPattern: UInt32(word($0))) }))
        case "<f8": return .float(Tensor(shape: shape, data: (0..<count).map { Float(Double(bitPattern: word($0))) }))
        default:
            var ids: [Int32] = []
            for i in 0..<count {
                let v = width == 4 ? Int64(Int32(truncatingIfNeeded: word(i))) : Int64(bitPattern: word(i))
                guard let small = Int32(exactly: v) else { throw fail("integer \(v) at element \(i) does not fit in 32 bits") }
                ids.append(small)
            }
            return .ids(IntTensor(shape: shape, data: ids))
        }
    }

    /// The value of `key` in the header dict, as text.
    private static func field(_ header: String, _ key: String) -> String? {
        guard let r = header.range(of: "'\(key)'") else { return nil }
        var rest = header[r.upperBound...].drop { $0 == " " || $0 == ":" }
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else { return nil }
            return String(rest[...close])
        }
        if rest.first == "'" {
            rest = rest.dropFirst()
            return rest.firstIndex(of: "'").map { String(rest[..<$0]) }
        }
        return String(rest.prefix { $0 != "," && $0 != "}" }).trimmingCharacters(in: .whitespaces)
    }

    public static func write(_ t: Tensor, to path: String) throws {
        let shape = t.shape.count == 1 ? "(\(t.shape[0]),)" : "(\(t.shape.map(String.init).joined(separator: ", ")))"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
        // Pad so that the data starts at a multiple of 64 bytes, as NumPy does.
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var file = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        file.append(contentsOf: [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        file.append(contentsOf: Array(header.utf8))
        for v in t.data { withUnsafeBytes(of: v.bitPattern.littleEndian) { file.append(contentsOf: $0) } }
        try AtomicFile.write(file, to: path)
    }
}
