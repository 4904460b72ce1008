import Numerics
import Model

/// Reads one NumPy `.npy` array (format versions 1.0, 2.0 and 3.0) into a `Tensor`.
///
/// Layout: the magic `\x93NUMPY`, a major and minor version byte, the header length (2 bytes little-endian in
/// version 1, 4 bytes in versions 2 and 3), then the header, a Python dict literal such as
/// `{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }`, then exactly the array's bytes.
///
/// Accepted element types: floats `f2` `f4` `f8`, integers `i1`…`i8` and `u1`…`u8`, booleans `b1`, in either
/// byte order; all become `Double`. Fortran-ordered arrays are reordered to row-major. Objects, structured
/// arrays, complex numbers, strings and dates are refused with a message saying so. Every value must be finite,
/// and the shape must respect `InputLimits`.
public enum NPYReader {
    /// The magic bytes every `.npy` file starts with.
    package static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// The array stored in `bytes`; errors name `file` and the tensor `name`.
    public static func read(_ bytes: [UInt8], file: String, name: String) throws(GraderError) -> Tensor {
        let site = BinarySite(file: file, location: name)
        guard bytes.count <= InputLimits.maxFileBytes else {
            throw site.error("the array is \(bytes.count) bytes; the limit is \(InputLimits.maxFileBytes)")
        }
        let (headerRange, dataStart) = try locateHeader(in: bytes, at: site)
        let header = try NPYHeader(Array(bytes[headerRange]), at: site)
        let count = try BinaryTensor.elementCount(of: header.shape, at: site)
        let expected = try BinaryTensor.byteCount(count, of: header.type, at: site)
        let found = bytes.count - dataStart
        guard found >= expected else {
            throw site.error(
                "truncated: shape \(shapeText(header.shape)) of '\(header.descr)' needs "
                    + "\(plural(expected, "byte")) of data, found \(found)")
        }
        guard found == expected else {
            throw site.error(
                "\(plural(found - expected, "unexpected byte")) after the "
                    + "\(plural(expected, "byte")) of data for shape \(shapeText(header.shape)) of '\(header.descr)'")
        }
        return try BinaryTensor.decode(
            bytes, from: dataStart, shape: header.shape, type: header.type,
            fortranOrder: header.fortranOrder, at: site)
    }

    /// The byte range of the header text and where the data starts, after checking magic and version.
    private static func locateHeader(
        in bytes: [UInt8],
        at site: BinarySite
    ) throws(GraderError) -> (Range<Int>, Int) {
        guard bytes.starts(with: magic) else {
            if bytes.starts(with: Array("PK".utf8)) {
                throw site.error("not a .npy file: it is a zip archive (an .npz?)")
            }
            throw site.error(
                bytes.isEmpty
                    ? "the file is empty; expected a .npy array"
                    : "not a .npy file: expected the magic bytes \\x93NUMPY at the start")
        }
        guard let major = bytes.littleEndian(at: 6, width: 1), let minor = bytes.littleEndian(at: 7, width: 1)
        else { throw site.error("truncated: the .npy file ends inside its version number") }
        let lengthWidth: Int
        switch major {
        case 1: lengthWidth = 2
        case 2, 3: lengthWidth = 4
        default: throw site.error("unsupported .npy format version \(major).\(minor); expected 1.0, 2.0 or 3.0")
        }
        guard let length = bytes.littleEndian(at: 8, width: lengthWidth) else {
            throw site.error("truncated: the .npy file ends inside its header length")
        }
        let headerStart = 8 + lengthWidth
        guard length <= UInt64(bytes.count - headerStart) else {
            throw site.error(
                "truncated: the header needs \(plural(Int(length), "byte")), "
                    + "found \(bytes.count - headerStart)")
        }
        let headerEnd = headerStart + Int(length)
        return (headerStart..<headerEnd, headerEnd)
    }
}

/// The three fields of a `.npy` header: element type, memory order and shape.
private struct NPYHeader {
    /// The `descr` text as written, e.g. `<f8`.
    let descr: String
    let type: ElementType
    let fortranOrder: Bool
    let shape: [Int]

    /// The header parsed from its dict-literal `text`.
    init(_ text: [UInt8], at site: BinarySite) throws(GraderError) {
        let fields = try PythonLiteral.parseDict(text, at: site)
        let expectedKeys = ["descr", "fortran_order", "shape"]
        for key in fields.map(\.key) where !expectedKeys.contains(key) {
            throw site.error("bad .npy header: unexpected key '\(key)'; expected 'descr', 'fortran_order', 'shape'")
        }
        func field(_ key: String) throws(GraderError) -> PythonLiteral {
            guard let value = fields.first(where: { $0.key == key })?.value else {
                throw site.error("bad .npy header: the key '\(key)' is missing")
            }
            return value
        }
        switch try field("descr") {
        case .string(let descr):
            self.descr = descr
            type = try Self.elementType(descr, at: site)
        case .sequence:
            throw site.error(
                "structured arrays (a dtype with named fields) are not supported; save a plain "
                    + "numeric array")
        default: throw site.error("bad .npy header: 'descr' should be a dtype string such as '<f8'")
        }
        guard case .bool(let fortran) = try field("fortran_order") else {
            throw site.error("bad .npy header: 'fortran_order' should be True or False")
        }
        fortranOrder = fortran
        shape = try Self.shape(try field("shape"), at: site)
    }

    /// The dimensions in a `shape` tuple.
    private static func shape(_ value: PythonLiteral, at site: BinarySite) throws(GraderError) -> [Int] {
        guard case .sequence(let items, isTuple: true) = value else {
            throw site.error("bad .npy header: 'shape' should be a tuple of integers such as (2, 3)")
        }
        var dimensions: [Int] = []
        for item in items {
            guard case .integer(let n) = item, n >= 0 else {
                throw site.error("bad .npy header: 'shape' should hold non-negative integers")
            }
            dimensions.append(n)
        }
        return dimensions
    }

    /// The element type a `descr` such as `<f8`, `>i4` or `|b1` names.
    private static func elementType(_ descr: String, at site: BinarySite) throws(GraderError) -> ElementType {
        var rest = Substring(descr)
        var bigEndian = false
        if let order = rest.first, "<>|=".contains(order) {
            bigEndian = order == ">"
            rest = rest.dropFirst()
        }
        guard let code = rest.first else { throw site.error("bad .npy header: empty dtype ''") }
        let size = Int(rest.dropFirst())
        if let unsupported = unsupportedKind(code, size: size) {
            throw site.error(
                "dtype '\(descr)' (\(unsupported)) is not supported; expected a float or integer "
                    + "type such as '<f8'")
        }
        let kind: ElementType.Kind? =
            switch code {
            case "f": .float
            case "i": .signed
            case "u": .unsigned
            case "b", "?": .bool
            default: nil
            }
        guard let kind, let type = ElementType(kind, size: size ?? (code == "?" ? 1 : 0), bigEndian: bigEndian)
        else {
            throw site.error("unknown dtype '\(descr)'; expected a float or integer type such as '<f8'")
        }
        return type
    }

    /// A name for the dtype families refused on purpose, or `nil`.
    private static func unsupportedKind(_ code: Character, size: Int?) -> String? {
        switch code {
        case "O": "Python objects"
        case "c": "complex numbers"
        case "S", "a", "U": "strings"
        case "V": "raw or structured records"
        case "M", "m": "dates and times"
        case "f" where size == 12 || size == 16: "extended-precision floats"
        default: nil
        }
    }
}

/// The subset of Python literals a `.npy` header uses: dicts, tuples, lists, strings, integers, booleans, None.
private indirect enum PythonLiteral {
    case string(String)
    case integer(Int)
    case bool(Bool)
    case noneLiteral
    case sequence([PythonLiteral], isTuple: Bool)
    case dict([(key: String, value: PythonLiteral)])

    /// Deepest nesting accepted.
    package static let maxDepth = 16

    /// The dict literal in `text` (only whitespace may follow it), with string keys.
    package static func parseDict(
        _ text: [UInt8],
        at site: BinarySite
    ) throws(GraderError) -> [(key: String, value: PythonLiteral)] {
        var parser = PythonLiteralParser(bytes: text, site: site)
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.index == text.count else { throw parser.error("unexpected text after the header dict") }
        guard case .dict(let fields) = value else { throw parser.error("the header is not a dict") }
        return fields
    }
}

/// A recursive-descent parser over the header bytes; every error is a `bad .npy header` at the file.
private struct PythonLiteralParser {
    let bytes: [UInt8]
    let site: BinarySite
    var index = 0

    init(bytes: [UInt8], site: BinarySite) {
        self.bytes = bytes
        self.site = site
    }

    func error(_ message: String) -> GraderError {
        site.error("bad .npy header: \(message)")
    }

    mutating func skipWhitespace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    /// The next byte after whitespace, without consuming it.
    mutating func peek() throws(GraderError) -> UInt8 {
        skipWhitespace()
        guard index < bytes.count else { throw error("the header ends early") }
        return bytes[index]
    }

    mutating func parseValue(depth: Int) throws(GraderError) -> PythonLiteral {
        guard depth < PythonLiteral.maxDepth else { throw error("nested too deeply") }
        let byte = try peek()
        switch byte {
        case UInt8(ascii: "{"): return .dict(try parseDict(depth: depth))
        case UInt8(ascii: "("): return .sequence(try parseItems(closing: ")", depth: depth), isTuple: true)
        case UInt8(ascii: "["): return .sequence(try parseItems(closing: "]", depth: depth), isTuple: false)
        case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .integer(try parseInteger())
        default: return try parseWord()
        }
    }

    private mutating func expect(_ character: Character) throws(GraderError) {
        guard try peek() == character.asciiValue else { throw error("expected '\(character)'") }
        index += 1
    }

    /// Whether the next byte is `character`, consuming it if so.
    private mutating func take(_ character: Character) throws(GraderError) -> Bool {
        guard try peek() == character.asciiValue else { return false }
        index += 1
        return true
    }

    private mutating func parseDict(depth: Int) throws(GraderError) -> [(key: String, value: PythonLiteral)] {
        try expect("{")
        var fields: [(key: String, value: PythonLiteral)] = []
        while !(try take("}")) {
            guard case .string(let key) = try parseValue(depth: depth + 1) else {
                throw error("dict keys should be strings")
            }
            guard !fields.contains(where: { $0.key == key }) else { throw error("the key '\(key)' appears twice") }
            try expect(":")
            fields.append((key, try parseValue(depth: depth + 1)))
            if try take("}") { break }
            try expect(",")
        }
        return fields
    }

    private mutating func parseItems(closing: Character, depth: Int) throws(GraderError) -> [PythonLiteral] {
        index += 1  // the opening bracket
        var items: [PythonLiteral] = []
        while !(try take(closing)) {
            items.append(try parseValue(depth: depth + 1))
            if try take(closing) { break }
            try expect(",")
        }
        return items
    }

    private mutating func parseString() throws(GraderError) -> String {
        let quote = bytes[index]
        index += 1
        var scalars = String.UnicodeScalarView()
        while index < bytes.count, bytes[index] != quote {
            if bytes[index] == UInt8(ascii: "\\") { index += 1 }
            guard index < bytes.count else { break }
            scalars.append(Unicode.Scalar(bytes[index]))
            index += 1
        }
        guard index < bytes.count else { throw error("a string is not closed") }
        index += 1
        return String(scalars)
    }

    /// A decimal integer, with Python 2's optional `L` suffix.
    private mutating func parseInteger() throws(GraderError) -> Int {
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        var value = 0
        var digits = 0
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int(bytes[index] - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { throw error("an integer is too large") }
            value = sum
            digits += 1
            index += 1
        }
        guard digits > 0 else { throw error("expected a digit after '-'") }
        if index < bytes.count, bytes[index] == UInt8(ascii: "L") { index += 1 }
        return negative ? -value : value
    }

    private mutating func parseWord() throws(GraderError) -> PythonLiteral {
        let start = index
        while index < bytes.count, Character(Unicode.Scalar(bytes[index])).isLetter { index += 1 }
        let word = String(decoding: bytes[start..<index], as: UTF8.self)
        switch word {
        case "True": return .bool(true)
        case "False": return .bool(false)
        case "None": return .noneLiteral
        case "": throw error("unexpected character '\(Character(Unicode.Scalar(bytes[start])))'")
        default: throw error("unexpected word '\(word)'")
        }
    }
}
