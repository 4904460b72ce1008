import Numerics
import Model

/// Reads a NumPy `.npz` archive, as `np.savez` writes it, into named tensors.
///
/// An `.npz` is a zip archive of `.npy` files, one per array, named `<key>.npy` (`arr_0.npy`… for positional
/// arrays). Entries must be stored, not deflated: `np.savez_compressed` archives are refused with a message
/// saying how to save instead. Each entry's CRC-32 is checked, then it is read by `NPYReader`.
public enum NPZReader {
    /// The arrays in `bytes`, named without their `.npy` suffix, in the archive's central-directory order.
    ///
    /// At most `InputLimits.maxTensors` entries; errors name `file` and the entry.
    public static func read(_ bytes: [UInt8], file: String) throws(GraderError) -> [(name: String, tensor: Tensor)] {
        let site = BinarySite(file: file, location: nil)
        guard bytes.count <= InputLimits.maxFileBytes else {
            throw site.error("the file is \(bytes.count) bytes; the limit is \(InputLimits.maxFileBytes)")
        }
        let archive = try ZipArchive(bytes, file: file, maxEntries: InputLimits.maxTensors)
        // Every name, method, size and place is checked before any entry is decoded: 1,024 entries that all
        // point at the same 4 MB would otherwise be decoded 1,024 times.
        var names = Set<String>()
        var places: [(name: String, range: Range<Int>)] = []
        for entry in archive.entries {
            let name = try tensorName(of: entry, at: site)
            guard names.insert(name).inserted else { throw site.at(name).error("the array appears twice") }
            guard entry.method != 8 else {
                throw site.at(name).error(
                    "compressed entries are not supported; save with np.savez instead of np.savez_compressed")
            }
            places.append((name, try archive.storedRange(of: entry)))
        }
        try requireDisjoint(places, at: site)
        var tensors: [(name: String, tensor: Tensor)] = []
        for (entry, place) in zip(archive.entries, places) {
            let data = try archive.storedData(of: entry)
            tensors.append((place.name, try NPYReader.read(Array(data), file: file, name: place.name)))
        }
        return tensors
    }

    /// Throws when two entries' data overlap (each byte of the archive belongs to at most one array).
    private static func requireDisjoint(_ places: [(name: String, range: Range<Int>)], at site: BinarySite) throws(GraderError) {
        let sorted = places.filter { !$0.range.isEmpty }.sorted { ($0.range.lowerBound, $0.name) < ($1.range.lowerBound, $1.name) }
        for (a, b) in zip(sorted, sorted.dropFirst()) where b.range.lowerBound < a.range.upperBound {
            throw site.at(b.name).error(
                "its data (bytes \(b.range.lowerBound)..<\(b.range.upperBound)) overlaps that of '\(a.name)' "
                    + "(bytes \(a.range.lowerBound)..<\(a.range.upperBound)); a damaged or hostile archive")
        }
    }

    /// The tensor name of `entry`: its file name without `.npy`.
    private static func tensorName(of entry: ZipArchive.Entry, at site: BinarySite) throws(GraderError) -> String {
        let suffix = ".npy"
        guard entry.name.hasSuffix(suffix), entry.name.count > suffix.count else {
            throw site.at(entry.name).error("not a .npy array; an .npz from np.savez holds only '<name>.npy' entries")
        }
        return String(entry.name.dropLast(suffix.count))
    }
}
