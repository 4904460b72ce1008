import Numerics
import Model
import Formats

/// The grader's input entry points as functions of one byte string, for the libFuzzer harness in `Fuzz/`
/// (built by `Tools/fuzz.sh`) and the short deterministic mutation run in the test suite.
///
/// Each entry point reads the bytes exactly as the loader reads a file, then builds the model against an
/// exercise, so the whole path from bytes to a `Transformer` is covered. Bad input must end in a
/// `GraderError`; any other outcome (a trap, a hang, another error type) is a finding. Where a format has
/// lengths and offsets that random mutation would almost always break, the bytes are decoded
/// *structure-aware* first (see `FuzzInput`), so mutations reach the parts behind those fields.
package enum FuzzEntryPoint: String, CaseIterable, Sendable {
    /// A JSON submission, nested form.
    case json
    /// A JSON submission with TransformerLens state-dict names.
    case stateDict = "state-dict"
    /// A folder of CSV files: `--- NAME` lines separate the files.
    case csvFolder = "csv-folder"
    /// A folder of `.npy` files: `--- NAME` lines separate the files, each one a `.npy` (see `FuzzInput.npy`).
    case npyFolder = "npy-folder"
    /// An `.npz`: raw when it starts with `PK`, else entries separated by `--- NAME` lines, zipped here.
    case npz
    /// A safetensors file: raw, or `{header JSON}` NUL data with the 8-byte header size written here.
    case safetensors
    /// An exercise spec; the first sequences of each generated family are generated too.
    case spec

    /// What happened to one input.
    package enum Outcome: Equatable {
        /// The input was accepted (and the model built).
        case accepted
        /// The input was refused with a `GraderError`.
        case refused(GraderError)
        /// Something other than a `GraderError` was thrown: a finding.
        case unexpected(String)
    }

    /// Runs the entry point on `bytes`; submissions are built against `spec`.
    package func run(_ bytes: [UInt8], spec: ExerciseSpec) -> Outcome {
        do {
            try body(bytes, spec: spec)
            return .accepted
        } catch let error as GraderError {
            return .refused(error)
        } catch {
            return .unexpected("\(type(of: error)): \(error)")
        }
    }

    private func body(_ bytes: [UInt8], spec: ExerciseSpec) throws {
        let submission: Submission
        switch self {
        case .json, .stateDict:
            submission = try JSONSubmission.parse(bytes, file: "fuzz.json")
        case .csvFolder, .npyFolder:
            let files = FuzzInput.files(bytes, defaultName: self == .csvFolder ? "L0H0.W_Q.csv" : "L0H0.W_Q.npy")
            let repaired = self == .npyFolder ? files.mapValues(FuzzInput.npy) : files
            submission = try FolderSubmission.build(names: Array(repaired.keys), folder: "fuzz") { name in
                guard let data = repaired[name] else { throw GraderError(file: name, "cannot read the file") }
                return data
            }
        case .npz:
            let archive =
                bytes.starts(with: Array("PK".utf8)) ? bytes : FuzzInput.zip(FuzzInput.files(bytes, defaultName: "arr_0.npy").mapValues(FuzzInput.npy))
            submission = try StateDict.submission(try NPZReader.read(archive, file: "fuzz.npz"), file: "fuzz.npz", exercise: nil, convention: .transformerLens)
        case .safetensors:
            let file = FuzzInput.safetensors(bytes)
            let (tensors, metadata) = try SafetensorsReader.read(file, file: "fuzz.safetensors")
            submission = try StateDict.submission(
                tensors, file: "fuzz.safetensors", exercise: metadata["exercise"],
                convention: try SafetensorsReader.convention(metadata, file: "fuzz.safetensors"))
        case .spec:
            let parsed = try SpecParser.parse(bytes, file: "fuzz-spec.json")
            for family in parsed.families {
                guard case .generated(var generator, _) = family.source else { continue }
                generator.count = min(generator.count, 16)
                var random = SeededRandom(seed: 1, stream: family.id)
                _ = generator.sequences(using: &random)
            }
            return
        }
        try submission.checkWeights()
        _ = try ModelBuilder.build(submission, spec: spec)
    }
}

/// Structure-aware decoding of fuzzer bytes into files, so that mutations of a header's text are not all
/// spent on breaking the length field in front of it.
package enum FuzzInput {
    /// The separator line in front of each file: `--- NAME` then a newline.
    package static let separator = Array("--- ".utf8)

    /// Files split at lines `--- NAME`; bytes before the first separator (if any) go to `defaultName`. The last
    /// file of a name wins (the loader sees unique names, as a folder has).
    package static func files(_ bytes: [UInt8], defaultName: String) -> [String: [UInt8]] {
        // Where each separator line starts: at the start or after a newline.
        let marks = bytes.indices.filter { ($0 == 0 || bytes[$0 - 1] == 0x0A) && bytes[$0...].starts(with: separator) }
        /// The bytes from `start` to the newline before `next` (or to the end).
        func content(_ start: Int, upTo next: Int?) -> [UInt8] {
            guard let next else { return Array(bytes[min(start, bytes.count)...]) }
            return Array(bytes[min(start, next)..<max(min(start, next), next - 1)])
        }
        var files: [String: [UInt8]] = [:]
        if marks.first != 0 { files[defaultName] = content(0, upTo: marks.first) }
        for (k, mark) in marks.enumerated() {
            let nameStart = mark + separator.count
            let nameEnd = bytes[nameStart...].firstIndex(of: 0x0A) ?? bytes.count
            let name = String(decoding: bytes[nameStart..<nameEnd], as: UTF8.self)
            files[name] = content(nameEnd + 1, upTo: k + 1 < marks.count ? marks[k + 1] : nil)
        }
        return files
    }

    /// A `.npy` file: `bytes` as they are when they start with the magic, else `{header dict}` newline data,
    /// given the magic, version 1.0 and the right header length.
    package static func npy(_ bytes: [UInt8]) -> [UInt8] {
        guard !bytes.starts(with: NPYReader.magic), let end = bytes.firstIndex(of: 0x0A) else { return bytes }
        let header = Array(bytes[..<end]) + [0x0A]
        guard header.count <= 0xFFFF else { return bytes }
        return NPYReader.magic + [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)] + header + bytes[(end + 1)...]
    }

    /// A safetensors file: `bytes` as they are unless they start with `{`; then the header is everything up
    /// to the first NUL byte and the data everything after it, and the 8-byte header size is written here.
    package static func safetensors(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.first == UInt8(ascii: "{") else { return bytes }
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        let size = UInt64(end)
        return (0..<8).map { UInt8(truncatingIfNeeded: size >> (8 * $0)) } + bytes[..<end] + bytes[min(end + 1, bytes.count)...]
    }

    /// A zip archive of stored entries, as `np.savez` writes it (names sorted, CRC-32 right).
    package static func zip(_ files: [String: [UInt8]]) -> [UInt8] {
        func le(_ value: Int, _ width: Int) -> [UInt8] { (0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        var out: [UInt8] = []
        var central: [UInt8] = []
        for (name, data) in files.sorted(by: { $0.key < $1.key }) {
            let nameBytes = Array(name.utf8)
            let crc = Int(CRC32.checksum(data[...]))
            let common = le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(crc, 4) + le(data.count, 4) + le(data.count, 4) + le(nameBytes.count, 2) + le(0, 2)
            central += le(0x0201_4B50, 4) + le(20, 2) + common + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(out.count, 4) + nameBytes
            out += le(0x0403_4B50, 4) + common + nameBytes + data
        }
        let directoryOffset = out.count
        out += central
        out += le(0x0605_4B50, 4) + le(0, 2) + le(0, 2) + le(files.count, 2) + le(files.count, 2) + le(central.count, 4) + le(directoryOffset, 4) + le(0, 2)
        return out
    }
}
