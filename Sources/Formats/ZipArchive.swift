import Numerics
import Model

/// The table of contents of a zip archive, and the stored (uncompressed) data of its entries.
///
/// Enough of the zip format for the archives `np.savez` writes: the End Of Central Directory record (found
/// by scanning back from the end past any comment), the Zip64 locator and record when present, and the central
/// directory, whose sizes and offsets are the ones trusted (Zip64 extra field `0x0001` included). A local
/// header is only used to find where an entry's data starts. Multi-disk and encrypted archives are refused.
/// Every offset is checked against the archive's size before it is read.
package struct ZipArchive {
    /// One file in the archive, as its central-directory record describes it.
    package struct Entry: Equatable, Sendable {
        /// The name, decoded as UTF-8.
        package let name: String
        /// The name's bytes, to compare with the local header.
        package let nameBytes: [UInt8]
        /// 0 is stored, 8 is deflate.
        package let method: Int
        package let crc32: UInt32
        package let compressedSize: Int
        package let uncompressedSize: Int
        package let localHeaderOffset: Int
    }

    /// Where the central directory is and how many entries it holds.
    private struct Directory {
        var entryCount: Int
        var offset: Int
        var size: Int
    }

    /// The entries in central-directory order.
    package let entries: [Entry]
    private let bytes: [UInt8]
    private let site: BinarySite

    private static let endSignature: UInt64 = 0x0605_4B50
    private static let zip64LocatorSignature: UInt64 = 0x0706_4B50
    private static let zip64EndSignature: UInt64 = 0x0606_4B50
    private static let centralSignature: UInt64 = 0x0201_4B50
    private static let localSignature: UInt64 = 0x0403_4B50
    /// Fixed sizes of the records, before their variable parts.
    private static let endSize = 22, locatorSize = 20, centralSize = 46, localSize = 30

    /// The archive in `bytes`, with at most `maxEntries` entries; errors name `file`.
    package init(_ bytes: [UInt8], file: String, maxEntries: Int) throws(GraderError) {
        self.bytes = bytes
        site = BinarySite(file: file, location: nil)
        let directory = try Self.directory(bytes, at: site)
        guard directory.entryCount <= maxEntries else {
            throw site.error("the archive has \(directory.entryCount) entries; the limit is \(maxEntries)")
        }
        entries = try Self.readEntries(bytes, directory, at: site)
    }

    /// The data of a stored `entry`, after checking its local header, its sizes and its CRC-32.
    package func storedData(of entry: Entry) throws(GraderError) -> ArraySlice<UInt8> {
        let data = bytes[try storedRange(of: entry)]
        let crc = CRC32.checksum(data)
        guard crc == entry.crc32 else {
            throw site.at(entry.name).error(
                "CRC-32 mismatch: the directory says \(hex(entry.crc32)), the data gives "
                    + "\(hex(crc)) (corrupted file?)")
        }
        return data
    }

    /// Where a stored `entry`'s data lies in the archive, after checking its local header and its sizes
    /// (not its CRC-32: this reads no data, so a reader can check every entry's place before decoding any).
    package func storedRange(of entry: Entry) throws(GraderError) -> Range<Int> {
        let site = site.at(entry.name)
        guard entry.method == 0 else {
            throw site.error("compression method \(entry.method) is not supported; only stored entries are")
        }
        guard entry.compressedSize == entry.uncompressedSize else {
            throw site.error(
                "a stored entry should have equal sizes, found \(entry.compressedSize) "
                    + "compressed and \(entry.uncompressedSize) uncompressed")
        }
        let start = try dataStart(of: entry, at: site)
        guard entry.compressedSize <= bytes.count - start else {
            throw site.error(
                "truncated: the entry needs \(plural(entry.compressedSize, "byte")), "
                    + "found \(bytes.count - start)")
        }
        return start..<(start + entry.compressedSize)
    }

    /// Where `entry`'s data starts: after its local header and that header's own name and extra field.
    private func dataStart(of entry: Entry, at site: BinarySite) throws(GraderError) -> Int {
        let offset = entry.localHeaderOffset
        guard bytes.littleEndian(at: offset, width: 4) == Self.localSignature,
            let nameLength = bytes.littleEndian(at: offset + 26, width: 2),
            let extraLength = bytes.littleEndian(at: offset + 28, width: 2)
        else { throw site.error("no local file header at offset \(offset) (damaged archive?)") }
        let nameStart = offset + Self.localSize
        let start = nameStart + Int(nameLength) + Int(extraLength)
        guard start <= bytes.count else { throw site.error("truncated: the local header runs past the end") }
        guard bytes[nameStart..<(nameStart + Int(nameLength))].elementsEqual(entry.nameBytes) else {
            throw site.error("the local header names a different file than the central directory")
        }
        return start
    }

    // MARK: - End of central directory

    /// The central directory's place and size, from the end record or its Zip64 form.
    private static func directory(_ bytes: [UInt8], at site: BinarySite) throws(GraderError) -> Directory {
        guard let end = findEndRecord(bytes) else {
            throw site.error(
                bytes.isEmpty
                    ? "the file is empty; expected an .npz archive"
                    : "not a zip archive, or a truncated one (no end-of-central-directory record); expected an .npz "
                        + "written by np.savez")
        }
        let field = { (offset: Int, width: Int) in Int(bytes.littleEndian(at: end + offset, width: width) ?? 0) }
        guard field(4, 2) == 0, field(6, 2) == 0 else {
            throw site.error("multi-disk zip archives are not supported")
        }
        let directory = Directory(entryCount: field(10, 2), offset: field(16, 4), size: field(12, 4))
        let locator = end - locatorSize
        if bytes.littleEndian(at: locator, width: 4) == zip64LocatorSignature {
            return try zip64Directory(bytes, locator: locator, at: site)
        }
        guard directory.entryCount != 0xFFFF, directory.offset != 0xFFFF_FFFF, directory.size != 0xFFFF_FFFF else {
            throw site.error("the end record asks for Zip64 but there is no Zip64 locator")
        }
        return try checked(directory, before: end, at: site)
    }

    /// The last end-of-central-directory record whose comment fits in the file.
    private static func findEndRecord(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= endSize else { return nil }
        let lowest = max(0, bytes.count - endSize - 0xFFFF)
        for offset in stride(from: bytes.count - endSize, through: lowest, by: -1)
        where bytes.littleEndian(at: offset, width: 4) == endSignature {
            if let comment = bytes.littleEndian(at: offset + 20, width: 2),
                Int(comment) <= bytes.count - offset - endSize
            {
                return offset
            }
        }
        return nil
    }

    /// The directory as the Zip64 end record, which the locator at `locator` points to, describes it.
    private static func zip64Directory(
        _ bytes: [UInt8], locator: Int,
        at site: BinarySite
    ) throws(GraderError) -> Directory {
        guard bytes.littleEndian(at: locator + 4, width: 4) == 0,
            bytes.littleEndian(at: locator + 16, width: 4) ?? 0 <= 1
        else {
            throw site.error("multi-disk zip archives are not supported")
        }
        guard let recordOffset = bytes.littleEndian(at: locator + 8, width: 8),
            recordOffset <= UInt64(locator),
            case let record = Int(recordOffset),
            bytes.littleEndian(at: record, width: 4) == zip64EndSignature,
            let count = bytes.littleEndian(at: record + 32, width: 8),
            let size = bytes.littleEndian(at: record + 40, width: 8),
            let offset = bytes.littleEndian(at: record + 48, width: 8),
            record + 56 <= locator
        else { throw site.error("the Zip64 end-of-central-directory record is missing or damaged") }
        guard bytes.littleEndian(at: record + 16, width: 4) == 0,
            bytes.littleEndian(at: record + 20, width: 4) == 0
        else {
            throw site.error("multi-disk zip archives are not supported")
        }
        let limit = UInt64(bytes.count)
        let directory = Directory(
            entryCount: Int(min(count, limit)), offset: Int(min(offset, limit)),
            size: Int(min(size, limit)))
        return try checked(directory, before: record, at: site)
    }

    /// `directory`, after checking it lies before the end record at `end`.
    private static func checked(
        _ directory: Directory, before end: Int,
        at site: BinarySite
    ) throws(GraderError) -> Directory {
        guard directory.offset <= end, directory.size <= end - directory.offset else {
            throw site.error(
                "the central directory (\(directory.size) bytes at offset \(directory.offset)) "
                    + "lies outside the archive (damaged or truncated?)")
        }
        return directory
    }

    // MARK: - Central directory

    /// The `directory.entryCount` entries of the central directory, in order.
    private static func readEntries(
        _ bytes: [UInt8], _ directory: Directory,
        at site: BinarySite
    ) throws(GraderError) -> [Entry] {
        let end = directory.offset + directory.size
        var offset = directory.offset
        var entries: [Entry] = []
        for index in 0..<directory.entryCount {
            let (entry, next) = try readEntry(bytes, at: offset, before: end, site: site, number: index + 1)
            entries.append(entry)
            offset = next
        }
        return entries
    }

    /// The central-directory record at `offset` (which must end by `end`), and where the next one starts.
    private static func readEntry(
        _ bytes: [UInt8], at offset: Int, before end: Int, site: BinarySite,
        number: Int
    ) throws(GraderError) -> (Entry, Int) {
        let damaged = site.error("central directory record \(number) is damaged or missing")
        guard offset <= end - centralSize, bytes.littleEndian(at: offset, width: 4) == centralSignature else {
            throw damaged
        }
        let field = { (at: Int, width: Int) in Int(bytes.littleEndian(at: offset + at, width: width) ?? 0) }
        let nameStart = offset + centralSize
        let extraStart = nameStart + field(28, 2)
        let extraEnd = extraStart + field(30, 2)
        let next = extraEnd + field(32, 2)
        guard next <= end else { throw damaged }
        let nameBytes = Array(bytes[nameStart..<extraStart])
        let name = String(decoding: nameBytes, as: UTF8.self)
        guard field(8, 2) & 1 == 0 else { throw site.at(name).error("encrypted entries are not supported") }
        var sizes = (uncompressed: field(24, 4), compressed: field(20, 4), offset: field(42, 4))
        try applyZip64Extra(bytes, extraStart..<extraEnd, to: &sizes, at: site.at(name))
        let entry = Entry(
            name: name, nameBytes: nameBytes, method: field(10, 2),
            crc32: UInt32(truncatingIfNeeded: field(16, 4)),
            compressedSize: sizes.compressed, uncompressedSize: sizes.uncompressed,
            localHeaderOffset: sizes.offset)
        return (entry, next)
    }

    /// Replaces the 32-bit sizes and offset saturated at `0xFFFFFFFF` by their values in the Zip64 extra field.
    private static func applyZip64Extra(
        _ bytes: [UInt8], _ extra: Range<Int>,
        to sizes: inout (uncompressed: Int, compressed: Int, offset: Int),
        at site: BinarySite
    ) throws(GraderError) {
        var offset = extra.lowerBound
        while offset + 4 <= extra.upperBound {
            let id = bytes.littleEndian(at: offset, width: 2) ?? 0
            let length = Int(bytes.littleEndian(at: offset + 2, width: 2) ?? 0)
            let data = offset + 4
            guard length <= extra.upperBound - data else { throw site.error("a damaged extra field") }
            if id == 1 {
                var reader = Zip64FieldReader(bytes: bytes, range: data..<(data + length), limit: bytes.count)
                sizes.uncompressed = try reader.replacing(sizes.uncompressed, at: site)
                sizes.compressed = try reader.replacing(sizes.compressed, at: site)
                sizes.offset = try reader.replacing(sizes.offset, at: site)
            }
            offset = data + length
        }
    }
}

/// Reads the 8-byte values of a Zip64 extra field in order, one for each 32-bit field saturated at `0xFFFFFFFF`.
private struct Zip64FieldReader {
    let bytes: [UInt8]
    let range: Range<Int>
    /// Larger values cannot be right: they would point past the archive.
    let limit: Int
    var next: Int

    init(bytes: [UInt8], range: Range<Int>, limit: Int) {
        self.bytes = bytes
        self.range = range
        self.limit = limit
        next = range.lowerBound
    }

    /// `value`, or its 64-bit form from the field when `value` is `0xFFFFFFFF`.
    mutating func replacing(_ value: Int, at site: BinarySite) throws(GraderError) -> Int {
        guard value == 0xFFFF_FFFF else { return value }
        guard next + 8 <= range.upperBound, let wide = bytes.littleEndian(at: next, width: 8) else {
            throw site.error("the Zip64 extra field is too short")
        }
        next += 8
        guard wide <= UInt64(limit) else {
            throw site.error("a Zip64 size or offset (\(wide)) is larger than the archive (\(limit) bytes)")
        }
        return Int(wide)
    }
}

/// The CRC-32 checksum zip uses (IEEE 802.3, reflected polynomial `0xEDB88320`).
package enum CRC32 {
    /// The checksum of every byte value, for the table-driven loop.
    private static let table: [UInt32] = (0..<256).map { byte in
        var crc = UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
        return crc
    }

    /// The CRC-32 of `bytes`; `"123456789"` gives `0xCBF43926`.
    package static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { table in
            for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        }
        return crc ^ 0xFFFF_FFFF
    }
}

/// `0x` and eight hex digits.
private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
