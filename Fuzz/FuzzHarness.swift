// The libFuzzer entry of circuit-grader, compiled only by `Tools/fuzz.sh` together with every file of
// the layers up to Sources/Exercises (`swiftc -sanitize=fuzzer,address`); never part of `swift build`, whose targets
// cannot hold a second `main`. The entry point is chosen by FUZZ_TARGET (json, state-dict, csv-folder,
// npy-folder, npz, safetensors, spec); submissions are built against the exercise FUZZ_EXERCISE
// (default current-token/nopos) from the specs in FUZZ_EXERCISES (default ./exercises).
import Foundation

/// What every input needs, read once.
private let setup: (target: FuzzEntryPoint, spec: ExerciseSpec) = {
    let environment = ProcessInfo.processInfo.environment
    guard let name = environment["FUZZ_TARGET"], let target = FuzzEntryPoint(rawValue: name) else {
        fatalError("set FUZZ_TARGET to one of: \(FuzzEntryPoint.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    do {
        let catalog = try ExerciseCatalog(root: environment["FUZZ_EXERCISES"] ?? "exercises")
        return (target, try catalog.spec(environment["FUZZ_EXERCISE"] ?? "current-token/nopos"))
    } catch {
        fatalError("cannot read the exercise for fuzzing: \(error)")
    }
}()

/// Reads the exercise before the first input, so that its time is not charged to that input's timeout.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    _ = setup
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    switch setup.target.run(bytes, spec: setup.spec) {
    case .accepted:
        break
    case .refused(let error):
        // The one-line rule: every refusal prints as one line with no raw control character.
        let line = error.description
        if line.contains("\n") || line.unicodeScalars.contains(where: SafeText.needsEscape) {
            fatalError("a refusal does not print as one clean line: \(line.debugDescription)")
        }
    case .unexpected(let what):
        fatalError("not a GraderError: \(what)")
    }
    return 0
}
