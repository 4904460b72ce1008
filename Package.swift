// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "circuit-grader",
    products: [
        .library(name: "CircuitGrader", targets: ["CircuitGrader"]),
        .executable(name: "circuit-grader", targets: ["circuit-grader"]),
    ],
    dependencies: [],
    targets: [
        // The grader's verdicts come from enumerating millions of sequences, so the library is optimised in
        // debug builds too: `swift test` then runs the whole-domain proofs at release speed.
        .target(name: "CircuitGrader", swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .executableTarget(name: "circuit-grader", dependencies: ["CircuitGrader"]),
        .testTarget(
            name: "CircuitGraderTests",
            dependencies: ["CircuitGrader"],
            resources: [.copy("Fixtures")]
        ),
    ]
)
