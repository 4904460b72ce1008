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
        .target(name: "CircuitGrader"),
        .executableTarget(name: "circuit-grader", dependencies: ["CircuitGrader"]),
        .testTarget(
            name: "CircuitGraderTests",
            dependencies: ["CircuitGrader"],
            resources: [.copy("Fixtures")]
        ),
    ]
)
