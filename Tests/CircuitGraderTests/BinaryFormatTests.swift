import Foundation
import Testing
@testable import Batch
@testable import CLI
@testable import Exercises
@testable import Formats
@testable import Grading
@testable import Model
@testable import Numerics
@testable import Reports

// Fixtures come from Tools/make_binary_fixtures.py (see Fixtures/binary/README.md). The expected values below
// are rebuilt from the script's construction, not read back from the files.

/// The bytes of fixture `binary/<name>`.
private func fixture(_ name: String) throws -> [UInt8] {
    let folder = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
    return Array(try Data(contentsOf: folder.appendingPathComponent("binary/\(name)")))
}

/// The arrays the fixture script writes, in row-major order.
private enum Expected {
    /// `small()`: float64 [2, 3], `arange(6) * 0.5 - 1`.
    static let small = (0..<6).map { Double($0) * 0.5 - 1 }
    /// `f32.npy`: float32 [3, 2], `arange(6) * 0.25`.
    static let f32 = (0..<6).map { Double($0) * 0.25 }
    /// `w_q()`: [n_heads 2, d_model 4, d_head 3], `arange(24) * 0.125`.
    static let wQ = (0..<24).map { Double($0) * 0.125 }
    /// `w_e()`: [3, 4], `arange(12) - 6`.
    static let wE = (0..<12).map { Double($0) - 6 }
    /// `small().T`: [3, 2].
    static let wU = [-1, 0.5, -0.5, 1, 0, 1.5]
    /// The float16 values of `f16.npy`: max finite, smallest normal and smallest subnormal included.
    static let f16 = [0.5, -2, 65504, 0x1p-14, 0x1p-24]
}

/// Which reader a test feeds.
enum BinaryReaderKind: String, Sendable, CaseIterable {
    case npy, npz, safetensors

    /// Reads `bytes` with this reader, discarding the result.
    func read(_ bytes: [UInt8], file: String) throws(GraderError) {
        switch self {
        case .npy: _ = try NPYReader.read(bytes, file: file, name: "tensor")
        case .npz: _ = try NPZReader.read(bytes, file: file)
        case .safetensors: _ = try SafetensorsReader.read(bytes, file: file)
        }
    }
}

/// A valid `.npy` fixture and the tensor it holds.
struct NPYCase: Sendable, CustomTestStringConvertible {
    let file: String
    let shape: [Int]
    let values: [Double]
    var testDescription: String { file }
}

/// A file a reader must refuse, and words its error message must contain.
struct BadInputCase: Sendable, CustomTestStringConvertible {
    let id: String
    let file: String
    let reader: BinaryReaderKind
    let words: [String]
    /// Bytes cut from the end of the file before reading.
    var dropLast = 0
    var testDescription: String { id }
}

@Suite("BinaryFormat")
struct BinaryFormatTests {
    // MARK: - .npy

    static let npyCases: [NPYCase] = [
        NPYCase(file: "small.npy", shape: [2, 3], values: Expected.small),
        NPYCase(file: "f32.npy", shape: [3, 2], values: Expected.f32),
        NPYCase(file: "fortran.npy", shape: [2, 3], values: Expected.small),
        NPYCase(file: "fortran3d.npy", shape: [2, 4, 3], values: Expected.wQ),
        NPYCase(file: "bigendian.npy", shape: [2, 3], values: Expected.small),
        NPYCase(file: "bigendian_i4.npy", shape: [2, 2], values: [-2, 70000, 3, -70000]),
        NPYCase(file: "f16.npy", shape: [5], values: Expected.f16),
        NPYCase(file: "ints.npy", shape: [1, 3], values: [-3, 0, 7]),
        NPYCase(file: "u1.npy", shape: [3], values: [0, 1, 255]),
        NPYCase(file: "bool.npy", shape: [3], values: [1, 0, 1]),
        NPYCase(file: "scalar.npy", shape: [], values: [3.5]),
        NPYCase(file: "v2.npy", shape: [2, 3], values: Expected.small),
        NPYCase(file: "v3.npy", shape: [2, 3], values: Expected.small),
        NPYCase(file: "python2_shape.npy", shape: [2, 3], values: Expected.small),
    ]

    @Test("a .npy file gives the exact shape and values written", arguments: npyCases)
    func npyValues(_ c: NPYCase) throws {
        let tensor = try NPYReader.read(try fixture(c.file), file: c.file, name: "t")
        #expect(tensor == Tensor(shape: c.shape, values: c.values))
    }

    @Test("a Fortran-ordered array reads the same as its C-ordered twin")
    func fortranEqualsC() throws {
        let c = try NPYReader.read(try fixture("small.npy"), file: "small.npy", name: "t")
        let fortran = try NPYReader.read(try fixture("fortran.npy"), file: "fortran.npy", name: "t")
        #expect(fortran == c)
        #expect(BinaryTensor.rowMajor(fromColumnMajor: [0, 1, 2, 3, 4, 5], shape: [2, 3]) == [0, 2, 4, 1, 3, 5])
    }

    // MARK: - .npz

    @Test("np.savez entries come back named, in order, with their values")
    func npzState() throws {
        let entries = try NPZReader.read(try fixture("state.npz"), file: "state.npz")
        #expect(entries.map(\.name) == ["embed.W_E", "blocks.0.attn.W_Q", "unembed.W_U"])
        #expect(
            entries.map(\.tensor) == [
                Tensor(shape: [3, 4], values: Expected.wE),
                Tensor(shape: [2, 4, 3], values: Expected.wQ),
                Tensor(shape: [3, 2], values: Expected.wU),
            ])
        #expect(entries[1].tensor.slice(1) == Tensor(shape: [4, 3], values: Array(Expected.wQ[12...])))
    }

    @Test("positional np.savez arrays are named arr_0, arr_1")
    func npzPositional() throws {
        let entries = try NPZReader.read(try fixture("positional.npz"), file: "positional.npz")
        #expect(entries.map(\.name) == ["arr_0", "arr_1"])
        #expect(entries.map(\.tensor) == [Tensor(shape: [2], values: [1, 2]), Tensor(shape: [1, 1], values: [3])])
    }

    @Test("a Zip64 archive (Zip64 end record and extra fields) reads like a plain one")
    func npzZip64() throws {
        let entries = try NPZReader.read(try fixture("zip64.npz"), file: "zip64.npz")
        #expect(entries.map(\.name) == ["embed.W_E", "small"])
        #expect(
            entries.map(\.tensor) == [
                Tensor(shape: [3, 4], values: Expected.wE),
                Tensor(shape: [2, 3], values: Expected.small),
            ])
    }

    @Test("np.savez_compressed archives are refused with advice")
    func npzCompressed() throws {
        let error = #expect(throws: GraderError.self) {
            try NPZReader.read(try fixture("compressed.npz"), file: "compressed.npz")
        }
        #expect(
            error?.description == "compressed.npz: embed.W_E: compressed entries are not supported; "
                + "save with np.savez instead of np.savez_compressed")
    }

    @Test("CRC-32 of the standard check string")
    func crc32() {
        #expect(CRC32.checksum(ArraySlice("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
    }

    // MARK: - safetensors

    @Test("safetensors tensors come sorted by data offset, with the metadata")
    func safetensorsState() throws {
        let (tensors, metadata) = try SafetensorsReader.read(try fixture("state.safetensors"), file: "s")
        #expect(tensors.map(\.name) == ["blocks.0.attn.W_Q", "embed.W_E"])
        #expect(
            tensors.map(\.tensor) == [
                Tensor(shape: [2, 4, 3], values: Expected.wQ),
                Tensor(shape: [3, 4], values: Expected.wE),
            ])
        #expect(metadata == ["exercise": "current-token/nopos"])
    }

    @Test("safetensors F16 and BF16 values")
    func safetensorsHalf() throws {
        let (tensors, metadata) = try SafetensorsReader.read(try fixture("f16.safetensors"), file: "s")
        #expect(tensors.map(\.name) == ["half", "brain"])
        #expect(
            tensors.map(\.tensor) == [
                Tensor(shape: [2, 2], values: [0.5, -2, 65504, 0x1p-24]),
                Tensor(shape: [3], values: [1.5, -0.15625, 0x1p100]),
            ])
        #expect(metadata.isEmpty)
    }

    @Test("safetensors integer, boolean and empty tensors")
    func safetensorsIntegers() throws {
        let (tensors, _) = try SafetensorsReader.read(try fixture("ints.safetensors"), file: "s")
        #expect(tensors.map(\.name) == ["i64", "i32", "u8", "flags", "empty"])
        #expect(
            tensors.map(\.tensor) == [
                Tensor(shape: [2], values: [-5, 0x1p40]), Tensor(shape: [1, 2], values: [-7, 9]),
                Tensor(shape: [3], values: [0, 128, 255]), Tensor(shape: [2], values: [1, 0]),
                Tensor(shape: [0, 3], values: []),
            ])
    }

    @Test("half-precision special values")
    func halfSpecials() {
        #expect(halfToDouble(0x7C00) == .infinity)
        #expect(halfToDouble(0xFC00) == -.infinity)
        #expect(halfToDouble(0x7E00).isNaN)
        #expect(halfToDouble(0x8000) == 0 && halfToDouble(0x8000).sign == .minus)
        #expect(halfToDouble(0x3C00) == 1)
    }

    // MARK: - Bad input

    static let badInputs: [BadInputCase] = [
        BadInputCase(
            id: "truncated npy", file: "truncated.npy", reader: .npy,
            words: ["truncated", "needs 48 bytes", "found 43"]),
        BadInputCase(
            id: "trailing garbage after npy data", file: "trailing.npy", reader: .npy,
            words: ["4 unexpected bytes"]),
        BadInputCase(
            id: "NaN in npy", file: "nan.npy", reader: .npy,
            words: ["tensor", "NaN", "flat index 5", "row 1, column 2", "finite"]),
        BadInputCase(
            id: "-inf in float32 npy", file: "inf.npy", reader: .npy,
            words: ["-infinity", "flat index 1", "row 0, column 1"]),
        BadInputCase(id: "bad magic", file: "badmagic.npy", reader: .npy, words: ["not a .npy file", "magic"]),
        BadInputCase(
            id: "header without shape", file: "badheader.npy", reader: .npy,
            words: ["bad .npy header", "'shape' is missing"]),
        BadInputCase(
            id: "huge declared shape", file: "huge_shape.npy", reader: .npy,
            words: ["100000", "limit is 4096"]),
        BadInputCase(
            id: "object dtype", file: "object.npy", reader: .npy,
            words: ["'|O'", "Python objects", "not supported"]),
        BadInputCase(
            id: "structured dtype", file: "structured.npy", reader: .npy,
            words: ["structured arrays", "not supported"]),
        BadInputCase(id: "complex dtype", file: "complex.npy", reader: .npy, words: ["complex numbers"]),
        BadInputCase(id: "string dtype", file: "strings.npy", reader: .npy, words: ["strings", "not supported"]),
        BadInputCase(id: "npz given as npy", file: "state.npz", reader: .npy, words: ["zip archive"]),
        BadInputCase(id: "random bytes as npy", file: "random.bin", reader: .npy, words: ["not a .npy file"]),
        BadInputCase(id: "empty npy", file: "empty.bin", reader: .npy, words: ["empty"]),
        BadInputCase(
            id: "npz with a corrupted entry", file: "crc.npz", reader: .npz,
            words: ["embed.W_E.npy", "CRC-32 mismatch"]),
        BadInputCase(
            id: "npz cut short", file: "state.npz", reader: .npz,
            words: ["not a zip archive, or a truncated one"], dropLast: 30),
        BadInputCase(id: "npy given as npz", file: "small.npy", reader: .npz, words: ["not a zip archive"]),
        BadInputCase(id: "random bytes as npz", file: "random.bin", reader: .npz, words: ["not a zip archive"]),
        BadInputCase(id: "empty npz", file: "empty.bin", reader: .npz, words: ["empty"]),
        BadInputCase(
            id: "safetensors offsets out of range", file: "offsets.safetensors", reader: .safetensors,
            words: ["w", "data_offsets [0, 400]", "16-byte data buffer"]),
        BadInputCase(
            id: "safetensors size mismatch", file: "badsize.safetensors", reader: .safetensors,
            words: ["needs 24 bytes", "span 16"]),
        BadInputCase(
            id: "safetensors cut short", file: "state.safetensors", reader: .safetensors,
            words: ["embed.W_E", "data_offsets [96, 192]", "182-byte data buffer"], dropLast: 10),
        BadInputCase(
            id: "inf in safetensors", file: "nan.safetensors", reader: .safetensors,
            words: ["w", "+infinity", "row 1, column 0"]),
        BadInputCase(
            id: "safetensors header larger than the file", file: "header_too_big.safetensors",
            reader: .safetensors, words: ["header size", "only 2"]),
        BadInputCase(
            id: "random bytes as safetensors", file: "random.bin", reader: .safetensors,
            words: ["header size"]),
        BadInputCase(id: "empty safetensors", file: "empty.bin", reader: .safetensors, words: ["empty"]),
    ]

    @Test("bad binary input gives a one-line error naming the problem", arguments: badInputs)
    func badInput(_ c: BadInputCase) throws {
        let bytes = Array(try fixture(c.file).dropLast(c.dropLast))
        let error = #expect(throws: GraderError.self) { try c.reader.read(bytes, file: c.file) }
        let text = error?.description ?? ""
        #expect(text.hasPrefix(c.file + ": "))
        #expect(!text.contains("\n"))
        for word in c.words {
            #expect(text.contains(word), "\(text) should contain '\(word)'")
        }
    }

    static let badHeaders: [(header: String, words: [String])] = [
        (
            "{'descr': '<f8', 'fortran_order': False, 'shape': (4096, 4096, 4096), }",
            ["too many elements", "limit is 4000000"]
        ),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999,), }", ["too large"]),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }", ["non-negative"]),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': [2], }", ["tuple"]),
        ("{'descr': '<c16', 'fortran_order': False, 'shape': (), }", ["complex numbers"]),
        ("{'descr': '<f16', 'fortran_order': False, 'shape': (), }", ["extended-precision"]),
        ("{'descr': '<x4', 'fortran_order': False, 'shape': (), }", ["unknown dtype '<x4'"]),
        ("{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (), }", ["dates and times"]),
        ("{'descr': '<f8', 'fortran_order': 0, 'shape': (), }", ["'fortran_order' should be True or False"]),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (), 'extra': 1}", ["unexpected key 'extra'"]),
        ("{'descr': '<f8', 'descr': '<f8'}", ["appears twice"]),
        ("{'descr': '<f8', ", ["ends early"]),
        (String(repeating: "[", count: 100), ["nested too deeply"]),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (), } x", ["unexpected text"]),
        ("('descr', '<f8')", ["not a dict"]),
    ]

    @Test("hand-written .npy headers", arguments: badHeaders)
    func badHeader(_ header: String, _ words: [String]) {
        let text = Array(header.utf8) + [0x0A]
        let bytes = NPYReader.magic + [1, 0, UInt8(text.count & 0xFF), UInt8(text.count >> 8)] + text
        let error = #expect(throws: GraderError.self) { try NPYReader.read(bytes, file: "h.npy", name: "W") }
        for word in words {
            #expect(error?.description.contains(word) == true, "\(error?.description ?? "") lacks '\(word)'")
        }
    }

    static let badSafetensorsHeaders: [(header: String, dataSize: Int, words: [String])] = [
        (#"{"w":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}"#, 1, ["'F8_E4M3' is not supported"]),
        (
            #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
                + #""v":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
            8, ["v", "overlaps that of 'w'"]
        ),
        (#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, 8, ["bytes 0..<4 are unused"]),
        (#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, 8, ["4 bytes after the last tensor"]),
        (#"{"__metadata__":{"a":1}}"#, 0, ["__metadata__", "should be a string"]),
        (#"[1]"#, 0, ["expected a JSON object"]),
        (#"{"w":"#, 0, ["header", "invalid JSON"]),
        (#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}"#, 4, ["unexpected key 'x'"]),
        (#"{"w":{"shape":[1],"data_offsets":[0,4]}}"#, 4, ["'dtype' is missing"]),
        (#"{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, 4, ["non-negative integers"]),
        (#"{"w":{"dtype":"F32","shape":[100000],"data_offsets":[0,4]}}"#, 4, ["limit is 4096"]),
        (#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, 4, ["data_offsets [4, 0]"]),
        (#"{"":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, 4, ["empty name"]),
    ]

    @Test("hand-written safetensors headers", arguments: badSafetensorsHeaders)
    func badSafetensorsHeader(_ header: String, _ dataSize: Int, _ words: [String]) {
        let text = Array(header.utf8)
        var size = UInt64(text.count)
        let sizeBytes = (0..<8).map { _ in
            defer { size >>= 8 }
            return UInt8(size & 0xFF)
        }
        let bytes = sizeBytes + text + [UInt8](repeating: 0, count: dataSize)
        let error = #expect(throws: GraderError.self) { try SafetensorsReader.read(bytes, file: "h.safetensors") }
        for word in words {
            #expect(error?.description.contains(word) == true, "\(error?.description ?? "") lacks '\(word)'")
        }
    }

    // MARK: - Robustness

    static let validFixtures =
        npyCases.map(\.file) + [
            "state.npz", "positional.npz", "zip64.npz", "compressed.npz",
            "state.safetensors", "f16.safetensors", "ints.safetensors",
        ]

    @Test("2000 random mutations of a valid file only ever read or throw GraderError", arguments: validFixtures)
    func mutations(_ name: String) throws {
        let original = try fixture(name)
        var random = SeededRandom(seed: fnv1a(name))
        var problems: [String] = []
        for round in 0..<2000 {
            let bytes = mutate(original, &random)
            for reader in BinaryReaderKind.allCases {
                do throws(GraderError) {
                    try reader.read(bytes, file: "mutant")
                } catch {
                    if error.file != "mutant" || error.message.isEmpty || error.description.contains("\n") {
                        problems.append("round \(round), \(reader): \(error.description)")
                    }
                }
            }
        }
        #expect(problems.isEmpty, "\(problems.prefix(5))")
    }

    /// `bytes` with a few bytes changed, cut short, or both.
    private func mutate(_ bytes: [UInt8], _ random: inout SeededRandom) -> [UInt8] {
        var result = bytes
        let kind = random.int(in: 0...3)
        if kind != 1 {
            let interesting: [UInt8] = [0x00, 0xFF, 0x7F, 0x80, 0x01]
            for _ in 0...random.int(in: 0...3) where !result.isEmpty {
                let byte =
                    random.int(in: 0...1) == 0
                    ? interesting[random.int(in: 0...(interesting.count - 1))]
                    : UInt8(truncatingIfNeeded: random.next())
                result[random.int(in: 0...(result.count - 1))] = byte
            }
        }
        if kind == 1 || kind == 3 {
            result.removeLast(random.int(in: 0...result.count))
        }
        return result
    }
}

/// The 64-bit FNV-1a hash of `text`, a seed that does not change between runs.
private func fnv1a(_ text: String) -> UInt64 {
    text.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01B3 }
}
