// swift-tools-version:6.0
import PackageDescription

// The grader in layers, each a target that may import only the ones below it, so the compiler keeps the
// dependency graph acyclic (drawn in the README's "Layout" section):
//
//   Numerics ← Model ← Formats ← Exercises ← Grading ← Reports ← Batch ← CLI ← circuit-grader
//                                                                       ↖ circuit-grader-bench
//
// The verdicts come from enumerating millions of sequences, so the library targets are optimised in debug
// builds too: `swift test` then runs the whole-domain proofs at release speed.
let optimised: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let layers = ["Numerics", "Model", "Formats", "Exercises", "Grading", "Reports", "Batch", "CLI"]

/// Each layer depends on the one directly below it (and so, transitively, on all of them).
let libraryTargets: [Target] = layers.enumerated().map { i, name in
    .target(
        name: name,
        dependencies: i == 0 ? [] : [.target(name: layers[i - 1])],
        swiftSettings: optimised
    )
}

let package = Package(
    name: "circuit-grader",
    products: [
        .executable(name: "circuit-grader", targets: ["circuit-grader"]),
        .executable(name: "circuit-grader-bench", targets: ["circuit-grader-bench"]),
    ],
    dependencies: [],
    targets: libraryTargets + [
        .executableTarget(name: "circuit-grader", dependencies: ["CLI"]),
        .executableTarget(name: "circuit-grader-bench", dependencies: ["CLI"], swiftSettings: optimised),
        .testTarget(
            name: "CircuitGraderTests",
            dependencies: layers.map { .target(name: $0) },
            resources: [.copy("Fixtures")]
        ),
    ]
)
