import Numerics
import Model

/// Turning raw bytes into a validated `Tensor`: the part the `.npy`, `.npz` and safetensors readers share.
///
/// A reader finds the shape, the element type and where the data starts; `BinaryTensor.decode` then checks the
/// shape against `InputLimits`, decodes every element to `Double`, puts it in row-major order and rejects
/// NaN and infinities. Nothing here traps on bad bytes: every range is checked before it is read.

/// Where a binary-format problem is (file and tensor), so every reader builds its errors the same way.
package struct BinarySite: Sendable {
    /// The file at fault.
    package let file: String
    /// The tensor or entry inside it, if any.
    package let location: String?

    /// An error at this site saying `message`.
    package func error(_ message: String) -> GraderError {
        GraderError(file: file, location: location, message)
    }

    /// The same file, at `location`.
    package func at(_ location: String) -> BinarySite {
        BinarySite(file: file, location: location)
    }
}

/// How one element is stored: a kind of number, its size in bytes and its byte order.
///
/// Only valid combinations can be made: floats of 2, 4 or 8 bytes, bfloat16 of 2, integers of 1, 2, 4 or 8,
/// booleans of 1.
package struct ElementType: Equatable, Sendable {
    /// The kind of number.
    package enum Kind: Equatable, Sendable {
        case float, bfloat16, signed, unsigned, bool
    }

    package let kind: Kind
    /// Bytes per element.
    package let size: Int
    /// Most significant byte first.
    package let bigEndian: Bool

    /// The element type, or `nil` when `kind` has no `size`-byte form.
    package init?(_ kind: Kind, size: Int, bigEndian: Bool = false) {
        let sizes: [Int] =
            switch kind {
            case .float: [2, 4, 8]
            case .bfloat16: [2]
            case .signed, .unsigned: [1, 2, 4, 8]
            case .bool: [1]
            }
        guard sizes.contains(size) else { return nil }
        self.kind = kind
        self.size = size
        self.bigEndian = bigEndian
    }

    /// The value of one element given its bits, `raw`, already in native order.
    package func value(ofRaw raw: UInt64) -> Double {
        switch kind {
        case .bool: return raw == 0 ? 0 : 1
        case .unsigned: return Double(raw)
        case .signed:
            let shift = UInt64(64 - 8 * size)
            return Double(Int64(bitPattern: raw << shift) >> shift)
        case .bfloat16: return Double(Float(bitPattern: UInt32(truncatingIfNeeded: raw) << 16))
        case .float:
            switch size {
            case 2: return halfToDouble(UInt16(truncatingIfNeeded: raw))
            case 4: return Double(Float(bitPattern: UInt32(truncatingIfNeeded: raw)))
            default: return Double(bitPattern: raw)
            }
        }
    }

    /// `count` elements starting at byte `start` of `bytes`; the caller has checked they are all there.
    package func decode(_ bytes: [UInt8], from start: Int, count: Int) -> [Double] {
        precondition(
            start >= 0 && count >= 0 && start + count * size <= bytes.count,
            "decode range \(start)+\(count)x\(size) outside \(bytes.count) bytes")
        var values = [Double]()
        values.reserveCapacity(count)
        bytes.withUnsafeBufferPointer { buffer in
            var offset = start
            for _ in 0..<count {
                var raw: UInt64 = 0
                for k in 0..<size {
                    let byte = UInt64(buffer[offset + (bigEndian ? k : size - 1 - k)])
                    raw = raw << 8 | byte
                }
                values.append(value(ofRaw: raw))
                offset += size
            }
        }
        return values
    }
}

/// IEEE 754 half precision (1 sign, 5 exponent, 10 fraction bits) to `Double`, subnormals and specials included.
package func halfToDouble(_ bits: UInt16) -> Double {
    let sign: Double = bits & 0x8000 == 0 ? 1 : -1
    let exponent = Int(bits >> 10 & 0x1F)
    let fraction = Double(bits & 0x3FF)
    switch exponent {
    case 0: return sign * fraction * 0x1p-24
    case 0x1F: return fraction == 0 ? sign * .infinity : .nan
    default: return sign * (1 + fraction / 1024) * Double(sign: .plus, exponent: exponent - 15, significand: 1)
    }
}

extension Array where Element == UInt8 {
    /// The unsigned little-endian integer of `width` bytes (at most 8) at `offset`, or `nil` past the end.
    package func littleEndian(at offset: Int, width: Int) -> UInt64? {
        guard offset >= 0, width >= 0, width <= 8, offset <= count - width else { return nil }
        var value: UInt64 = 0
        for k in stride(from: width - 1, through: 0, by: -1) {
            value = value << 8 | UInt64(self[offset + k])
        }
        return value
    }
}

/// Shape checks, decoding and the finite-value check shared by the binary readers.
package enum BinaryTensor {
    /// The number of elements of `shape`, after checking every dimension and the total against `InputLimits`.
    package static func elementCount(of shape: [Int], at site: BinarySite) throws(GraderError) -> Int {
        var count = 1
        for (axis, dimension) in shape.enumerated() {
            guard dimension >= 0 else {
                throw site.error("dimension \(axis) of shape \(shapeText(shape)) is negative")
            }
            guard dimension <= InputLimits.maxDimension else {
                throw site.error(
                    "dimension \(axis) of shape \(shapeText(shape)) is \(dimension); "
                        + "the limit is \(InputLimits.maxDimension)")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow, product <= InputLimits.maxTensorElements else {
                throw site.error(
                    "shape \(shapeText(shape)) has too many elements; the limit is "
                        + "\(InputLimits.maxTensorElements) per tensor")
            }
            count = product
        }
        return count
    }

    /// The bytes `count` elements of `type` take, or an error when that overflows.
    package static func byteCount(_ count: Int, of type: ElementType, at site: BinarySite) throws(GraderError) -> Int {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: type.size)
        guard !overflow else { throw site.error("\(count) elements of \(type.size) bytes overflow") }
        return bytes
    }

    /// The tensor of `shape` whose elements of `type` start at byte `start` of `bytes`.
    ///
    /// The caller has checked that `elementCount(of: shape)` elements fit. `fortranOrder` data (first index
    /// fastest) is reordered to row-major. Every value must be finite.
    package static func decode(
        _ bytes: [UInt8], from start: Int, shape: [Int], type: ElementType,
        fortranOrder: Bool = false, at site: BinarySite
    ) throws(GraderError) -> Tensor {
        let count = try elementCount(of: shape, at: site)
        var values = type.decode(bytes, from: start, count: count)
        if fortranOrder { values = rowMajor(fromColumnMajor: values, shape: shape) }
        // TransformerLens's buffers (attn.IGNORE is −inf) are skipped by name later, so not checked here.
        if !TransformerLensNames.isIgnoredBuffer(site.location) { try requireFinite(values, shape: shape, at: site) }
        return Tensor(shape: shape, values: values, precision: type.precision)
    }

    /// Column-major (Fortran) `values` of `shape` in row-major (C) order.
    package static func rowMajor(fromColumnMajor values: [Double], shape: [Int]) -> [Double] {
        guard shape.count > 1, !values.isEmpty else { return values }
        var strides = [Int](repeating: 1, count: shape.count)  // Fortran strides, in elements
        for axis in 1..<shape.count { strides[axis] = strides[axis - 1] * shape[axis - 1] }
        var index = [Int](repeating: 0, count: shape.count)  // current row-major position
        var offset = 0  // its place in `values`
        var result = [Double]()
        result.reserveCapacity(values.count)
        for _ in 0..<values.count {
            result.append(values[offset])
            var axis = shape.count - 1
            while axis >= 0 {
                index[axis] += 1
                offset += strides[axis]
                if index[axis] < shape[axis] { break }
                offset -= strides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        return result
    }

    /// Throws at the first NaN or infinity, naming its flat index (and row and column for a matrix).
    package static func requireFinite(_ values: [Double], shape: [Int], at site: BinarySite) throws(GraderError) {
        guard let flat = values.firstIndex(where: { !$0.isFinite }) else { return }
        let value = values[flat]
        let what = value.isNaN ? "NaN" : (value < 0 ? "-infinity" : "+infinity")
        throw site.error("the value at \(position(of: flat, in: shape)) is \(what); every weight must be finite")
    }

    /// Describes flat index `flat` of `shape`: `flat index 5 (row 1, column 2)` for a matrix,
    /// `flat index 5 (index [0, 1, 2])` for more dimensions.
    package static func position(of flat: Int, in shape: [Int]) -> String {
        guard shape.count >= 2, !shape.contains(0) else { return "flat index \(flat)" }
        var index = [Int](repeating: 0, count: shape.count)
        var rest = flat
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            index[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        if shape.count == 2 { return "flat index \(flat) (row \(index[0]), column \(index[1]))" }
        return "flat index \(flat) (index \(shapeText(index)))"
    }
}
