import Foundation
import Testing

/// The layers of Package.swift, bottom first: a source file may import only layers below its own. The
/// compiler already refuses a cycle; this test also refuses an upward import the build order would happen
/// to satisfy, and keeps the README's drawing in step with the targets.
@Suite("Layering")
struct LayeringTests {
    static let layers = ["Numerics", "Model", "Formats", "Exercises", "Grading", "Reports", "Batch", "CLI"]

    @Test("every import between the package's layers points down")
    func importsPointDown() throws {
        var upward: [String] = []
        var files = 0
        for (rank, layer) in Self.layers.enumerated() {
            let folder = repoPath("Sources/\(layer)")
            for name in try FileManager.default.contentsOfDirectory(atPath: folder) where name.hasSuffix(".swift") {
                files += 1
                let text = try String(contentsOfFile: "\(folder)/\(name)", encoding: .utf8)
                for line in text.split(separator: "\n") where line.hasPrefix("import ") {
                    let module = String(line.dropFirst("import ".count))
                    if let other = Self.layers.firstIndex(of: module), other >= rank { upward.append("\(layer)/\(name) imports \(module)") }
                }
            }
        }
        #expect(files > 100)
        #expect(upward.isEmpty, "\(upward)")
    }

    @Test("Package.swift declares the layers in this order, and the README draws each of them")
    func packageAndReadmeAgree() throws {
        let package = try String(contentsOfFile: repoPath("Package.swift"), encoding: .utf8)
        let declared = "let layers = [" + Self.layers.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        #expect(package.contains(declared))
        let readme = try String(contentsOfFile: repoPath("README.md"), encoding: .utf8)
        let layout = try #require(readme.components(separatedBy: "## Layout").dropFirst().first?.components(separatedBy: "\n## ").first)
        for layer in Self.layers { #expect(layout.contains(" \(layer) "), "README's layout does not draw \(layer)") }
    }
}
