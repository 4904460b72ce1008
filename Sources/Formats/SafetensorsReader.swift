import Numerics
import Model

/// Reads a safetensors file into named tensors and its string metadata.
///
/// Layout: an 8-byte little-endian header size `n`, `n` bytes of JSON header, then the data buffer. The header
/// maps each tensor name to `{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}`, offsets being
/// relative to the data buffer, and may hold `"__metadata__"`, a string-to-string map.
///
/// Accepted dtypes: `F64`, `F32`, `F16`, `BF16`, `I64`, `I32`, `I16`, `I8`, `U64`, `U32`, `U16`, `U8`, `BOOL`
/// (all little-endian, as the format requires). As the format also requires, the tensors' byte ranges must
/// tile the data buffer exactly: no overlap, no gap, nothing after the last one.
public enum SafetensorsReader {
    /// The dtypes read, with their element types.
    package static let dtypes: [(name: String, type: ElementType?)] = [
        ("F64", ElementType(.float, size: 8)), ("F32", ElementType(.float, size: 4)),
        ("F16", ElementType(.float, size: 2)), ("BF16", ElementType(.bfloat16, size: 2)),
        ("I64", ElementType(.signed, size: 8)), ("I32", ElementType(.signed, size: 4)),
        ("I16", ElementType(.signed, size: 2)), ("I8", ElementType(.signed, size: 1)),
        ("U64", ElementType(.unsigned, size: 8)), ("U32", ElementType(.unsigned, size: 4)),
        ("U16", ElementType(.unsigned, size: 2)), ("U8", ElementType(.unsigned, size: 1)),
        ("BOOL", ElementType(.bool, size: 1)),
    ]

    /// One tensor as the header describes it, before its data is read.
    private struct Entry {
        let name: String
        let type: ElementType
        let shape: [Int]
        /// Byte range in the data buffer.
        let range: Range<Int>
    }

    /// The tensors in `bytes`, **sorted by where their data starts** (the order they are stored in), and the
    /// `__metadata__` map (empty when absent). Errors name `file` and the tensor.
    public static func read(_ bytes: [UInt8], file: String) throws(GraderError)
        -> (tensors: [(name: String, tensor: Tensor)], metadata: [String: String])
    {
        let site = BinarySite(file: file, location: nil)
        guard bytes.count <= InputLimits.maxFileBytes else {
            throw site.error("the file is \(bytes.count) bytes; the limit is \(InputLimits.maxFileBytes)")
        }
        let (header, dataStart) = try parseHeader(bytes, at: site)
        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for member in header.members {
            if member.key == "__metadata__" {
                metadata = try parseMetadata(member.value, at: site.at("__metadata__"))
            } else {
                entries.append(try parseEntry(member.key, member.value, dataSize: bytes.count - dataStart, at: site))
            }
        }
        guard entries.count <= InputLimits.maxTensors else {
            throw site.error("the file has \(entries.count) tensors; the limit is \(InputLimits.maxTensors)")
        }
        entries.sort {
            ($0.range.lowerBound, $0.range.upperBound, $0.name) < ($1.range.lowerBound, $1.range.upperBound, $1.name)
        }
        try checkTiling(entries, dataSize: bytes.count - dataStart, at: site)
        var tensors: [(name: String, tensor: Tensor)] = []
        for entry in entries {
            let tensor = try BinaryTensor.decode(
                bytes, from: dataStart + entry.range.lowerBound, shape: entry.shape,
                type: entry.type, at: site.at(entry.name))
            tensors.append((entry.name, tensor))
        }
        return (tensors, metadata)
    }

    /// The convention `metadata` names (`"convention"`), validated as the JSON form validates it; the default
    /// when absent.
    package static func convention(_ metadata: [String: String], file: String) throws(GraderError) -> Submission.Convention {
        guard let text = metadata["convention"] else { return .transformerLens }
        guard let convention = Submission.Convention(rawValue: text) else {
            throw GraderError(
                file: file, location: "__metadata__.convention",
                "expected \"transformer_lens\" or \"anthropic\", found \"\(text)\"")
        }
        return convention
    }

    /// The JSON header object and where the data buffer starts.
    private static func parseHeader(_ bytes: [UInt8], at site: BinarySite) throws(GraderError) -> (JSONObject, Int) {
        guard let size = bytes.littleEndian(at: 0, width: 8) else {
            throw site.error(
                bytes.isEmpty
                    ? "the file is empty; expected a safetensors file"
                    : "truncated: a safetensors file starts with an 8-byte header size, found "
                        + plural(bytes.count, "byte"))
        }
        guard size <= UInt64(bytes.count - 8) else {
            throw site.error(
                "the header size is \(size) bytes but only \(bytes.count - 8) follow "
                    + "(truncated, or not a safetensors file?)")
        }
        let dataStart = 8 + Int(size)
        let header: JSONValue
        do throws(GraderError) {
            header = try JSONParser.parse(Array(bytes[8..<dataStart]), file: site.file)
        } catch {
            throw site.error("header: \(error.message)")
        }
        guard let object = header.object else {
            throw site.error("header: expected a JSON object, found \(header.typeName)")
        }
        return (object, dataStart)
    }

    /// The `__metadata__` map, whose values must all be strings.
    private static func parseMetadata(_ value: JSONValue, at site: BinarySite) throws(GraderError) -> [String: String] {
        guard let object = value.object else { throw site.error("expected an object, found \(value.typeName)") }
        var metadata: [String: String] = [:]
        for member in object.members {
            guard let text = member.value.string else {
                throw site.error("the value of '\(member.key)' should be a string, found \(member.value.typeName)")
            }
            metadata[member.key] = text
        }
        return metadata
    }

    /// One tensor's header entry, checked against the data buffer of `dataSize` bytes.
    private static func parseEntry(
        _ name: String, _ value: JSONValue, dataSize: Int,
        at fileSite: BinarySite
    ) throws(GraderError) -> Entry {
        let site = fileSite.at(name)
        guard !name.isEmpty else { throw fileSite.error("a tensor has an empty name") }
        guard let object = value.object else { throw site.error("expected an object, found \(value.typeName)") }
        for key in object.keys where !["dtype", "shape", "data_offsets"].contains(key) {
            throw site.error("unexpected key '\(key)'; expected dtype, shape and data_offsets")
        }
        let type = try elementType(object["dtype"], at: site)
        let shape = try integers(object["shape"], key: "shape", at: site)
        let offsets = try integers(object["data_offsets"], key: "data_offsets", at: site)
        guard offsets.count == 2, offsets[0] <= offsets[1], offsets[1] <= dataSize else {
            throw site.error(
                "data_offsets \(shapeText(offsets)) should be [begin, end] within the "
                    + "\(dataSize)-byte data buffer")
        }
        let count = try BinaryTensor.elementCount(of: shape, at: site)
        let expected = try BinaryTensor.byteCount(count, of: type, at: site)
        guard offsets[1] - offsets[0] == expected else {
            throw site.error(
                "shape \(shapeText(shape)) needs \(plural(expected, "byte")), "
                    + "but data_offsets \(shapeText(offsets)) span \(offsets[1] - offsets[0])")
        }
        return Entry(name: name, type: type, shape: shape, range: offsets[0]..<offsets[1])
    }

    /// The element type of a `dtype` string.
    private static func elementType(_ value: JSONValue?, at site: BinarySite) throws(GraderError) -> ElementType {
        guard let value else { throw site.error("the key 'dtype' is missing") }
        guard let name = value.string else { throw site.error("dtype should be a string, found \(value.typeName)") }
        guard let type = dtypes.first(where: { $0.name == name })?.type else {
            throw site.error(
                "dtype '\(name)' is not supported; expected one of "
                    + dtypes.map(\.name).joined(separator: ", "))
        }
        return type
    }

    /// A JSON array of non-negative integers.
    private static func integers(_ value: JSONValue?, key: String, at site: BinarySite) throws(GraderError) -> [Int] {
        guard let value else { throw site.error("the key '\(key)' is missing") }
        guard let array = value.array, array.count <= 64 else {
            throw site.error("\(key) should be an array of non-negative integers, found \(value.typeName)")
        }
        var result: [Int] = []
        for item in array {
            guard let n = item.integer, n >= 0 else {
                let found = item.number.map { "\($0)" } ?? item.typeName
                throw site.error("\(key) should hold non-negative integers, found \(found)")
            }
            result.append(n)
        }
        return result
    }

    /// Checks that the byte ranges of `entries`, sorted by start, tile the `dataSize`-byte buffer exactly.
    private static func checkTiling(_ entries: [Entry], dataSize: Int, at site: BinarySite) throws(GraderError) {
        var end = 0
        var previous: String?
        for entry in entries {
            if entry.range.lowerBound < end, let previous {
                throw site.at(entry.name).error("its data \(entry.range) overlaps that of '\(previous)'")
            }
            guard entry.range.lowerBound == end else {
                throw site.at(entry.name).error(
                    "its data starts at byte \(entry.range.lowerBound) but the "
                        + "previous tensor ends at \(end); bytes \(end)..<\(entry.range.lowerBound) are unused")
            }
            end = entry.range.upperBound
            previous = entry.name
        }
        guard end == dataSize else {
            throw site.error(
                "\(plural(dataSize - end, "byte")) after the last tensor's data are unused "
                    + "(the data buffer is \(dataSize) bytes, the tensors cover \(end))")
        }
    }
}
