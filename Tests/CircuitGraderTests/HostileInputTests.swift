import Foundation
import Testing

@testable import CircuitGrader

/// Every finding of issue 11 (and of the fuzz campaign), each as a fixture under `Fixtures/hostile/<entry
/// point>/` (made by `Tools/make_hostile_fixtures.py`, or saved from `Tools/fuzz.sh`) with the exact
/// one-line error it must produce: no trap, no hang, no silent acceptance.
struct HostileInputTests {
    struct Finding: CustomTestStringConvertible, Sendable {
        var id: String
        var entry: FuzzEntryPoint
        var fixture: String
        var error: String
        var testDescription: String { id }
    }

    static let findings: [Finding] = [
        // Traps.
        Finding(
            id: "a high surrogate followed by a \\u escape below DC00 is U+FFFD, not an overflow", entry: .json,
            fixture: "surrogate-pair-overflow.json",
            error: "fuzz.json:1: unknown key \"\u{FFFD}\u{FFFD}\" (expected one of: $comment, W_E, W_U, W_pos, answers, b_U, convention, exercise, layers, meta)"),
        Finding(
            id: "a state dict nested 8 levels of 235 items has its shape product checked", entry: .stateDict,
            fixture: "shape-product-overflow.json",
            error: "fuzz.json: blocks.0.attn.W_Q: shape [235, 235, 235, 235, 235, 235, 235, 235] has too many elements; the limit is 4000000 per tensor"),
        Finding(
            id: "a residual range from Int.min does not overflow", entry: .spec, fixture: "residual-range-overflow.json",
            error: "fuzz-spec.json:24: residual: cannot expand \"s{-9223372036854775808..1}\": expands to more than 4096 names, the limit"),
        Finding(
            id: "empty variable tokens with a $x pattern are refused", entry: .spec, fixture: "empty-variable-tokens.json",
            error: "fuzz-spec.json:104: families[1].generator.variable_tokens: needs at least one token for the $variables to take"),
        // Hangs and memory.
        Finding(
            id: "1,024 overlapping npz entries are refused before any is decoded", entry: .npz, fixture: "overlapping-entries.npz",
            error: "fuzz.npz: arr_1: its data (bytes 78..<42234) overlaps that of 'arr_0' (bytes 39..<42234); a damaged or hostile archive"),
        Finding(
            id: "{0..99999}{0..99999} is refused before any name is built", entry: .spec, fixture: "residual-names-explode.json",
            error: "fuzz-spec.json:24: residual: cannot expand \"{0..99999}{0..99999}\": expands to more than 4096 names, the limit"),
        Finding(
            id: "count 100000 × length 4095 is refused before any case is generated", entry: .spec, fixture: "generated-cases-explode.json",
            error:
                "fuzz-spec.json:49: families: the generated families ask for more than 1000000 tokens (count × max length, summed; family \"random\" brings the total to 409500000); lower a count or a length"),
        // Accepted but must not be.
        Finding(
            id: "a bias beyond the limit in an npz", entry: .npz, fixture: "bias-beyond-limit.npz",
            error: "fuzz.npz: L0H0.b_Q[0]: found 1e+300; weights must lie within ±1000000"),
        Finding(
            id: "a bias beyond the limit in safetensors", entry: .safetensors, fixture: "bias-beyond-limit.safetensors",
            error: "fuzz.safetensors: L0H0.b_K[0]: found 1e+300; weights must lie within ±1000000"),
        Finding(
            id: "a bias beyond the limit in a state-dict npy folder names its file", entry: .npyFolder, fixture: "state-dict-bias-beyond-limit",
            error: "fuzz/blocks.0.attn.b_V.npy: L0H0.b_V[0]: found 1e+300; weights must lie within ±1000000"),
        Finding(
            id: "L0.b_O.npy beyond the limit in a per-head folder names its file", entry: .npyFolder, fixture: "layer-bias-beyond-limit",
            error: "fuzz/L0.b_O.npy: L0.b_O[0]: found 1e+300; weights must lie within ±1000000"),
        Finding(
            id: "L0H0.W_Q.csv beside l0h0.W_Q.csv", entry: .csvFolder, fixture: "two-spellings-of-one-head",
            error: "fuzz: L0H0.W_Q.csv and l0h0.W_Q.csv both hold L0H0.W_Q; keep one"),
        Finding(
            id: "L0H0.W_Q.csv beside L00H00.W_Q.csv", entry: .csvFolder, fixture: "zero-padded-head",
            error: "fuzz: L00H00.W_Q.csv and L0H0.W_Q.csv both hold L0H0.W_Q; keep one"),
        Finding(
            id: "L0H0.W_Q.npy beside L0H0.W_Q.NPY", entry: .npyFolder, fixture: "npy-beside-NPY",
            error: "fuzz: L0H0.W_Q.NPY and L0H0.W_Q.npy both hold L0H0.W_Q; keep one"),
        Finding(
            id: "blocks.0.attn.W_Q.npy beside blocks.0.attn.W_Q.NPY", entry: .npyFolder, fixture: "state-dict-npy-beside-NPY",
            error: "fuzz: blocks.0.attn.W_Q.NPY and blocks.0.attn.W_Q.npy both hold L0.W_Q; keep one"),
        Finding(
            id: "blocks.0.attn.W_Q beside blocks.00.attn.W_Q", entry: .stateDict, fixture: "two-spellings-of-one-layer.json",
            error: "fuzz.json: blocks.00.attn.W_Q: is also given as blocks.0.attn.W_Q (both are L0.W_Q); keep one"),
        Finding(
            id: "safetensors metadata convention Anthropic is validated like JSON's", entry: .safetensors,
            fixture: "metadata-convention-capitalised.safetensors",
            error: "fuzz.safetensors: __metadata__.convention: expected \"transformer_lens\" or \"anthropic\", found \"Anthropic\""),
        Finding(
            id: "a sinusoidal alpha of 1e308 cannot put NaN into W_pos", entry: .spec, fixture: "sinusoidal-alpha-overflow.json",
            error:
                "fuzz-spec.json:46: fixed: W_pos[2][5] is NaN; fixed values must be finite and within ±1000000 (check a sinusoidal alpha or amplitude)"),
        // Spoofing.
        Finding(
            id: "an escape sequence in a key is shown escaped", entry: .json, fixture: "escape-sequence-in-key.json",
            error:
                "fuzz.json:1: unknown key \"\\u{1B}[2K\\rFAKE: all tests passed\" (expected one of: $comment, W_E, W_U, W_pos, answers, b_U, convention, exercise, layers, meta)"
        ),
    ]

    static func fixture(_ entry: FuzzEntryPoint, _ name: String) throws -> [UInt8] {
        let folder = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let url = folder.appendingPathComponent("hostile").appendingPathComponent(entry.rawValue).appendingPathComponent(name)
        return [UInt8](try Data(contentsOf: url))
    }

    @Test(arguments: findings)
    func eachFindingGivesItsExactError(_ f: Finding) throws {
        let spec = try repoCatalog().spec("current-token/nopos")
        let started = Date()
        let outcome = f.entry.run(try Self.fixture(f.entry, f.fixture), spec: spec)
        guard case .refused(let error) = outcome else {
            Issue.record("\(f.id): expected a refusal, got \(outcome)")
            return
        }
        #expect(error.description == f.error)
        #expect(Date().timeIntervalSince(started) < 2, "\(f.id) took too long")
    }
}
