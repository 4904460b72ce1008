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

/// Validates a value against the published Gradescope results schema (`../shared/schemas/`) without Python:
/// the subset of JSON Schema it uses (`type`, `enum`, `properties`, `required`, `additionalProperties: false`,
/// `items`, `minimum`, `anyOf`, `$ref` into `$defs`).
enum GradescopeSchema {
    /// The committed copy (a fresh clone has no `../shared`); `theCommittedSchemaIsThePublishedOne` keeps it
    /// equal to the published file wherever that is present.
    static var path: String { repoPath("Tests/CircuitGraderTests/Fixtures/schemas/gradescope-results.schema.json") }
    static var published: String { repoPath("../shared/schemas/gradescope-results.schema.json") }

    /// Records an issue for every place `value` breaks the schema.
    static func validate(_ value: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let schema = try JSONParser.parse(try SubmissionLoader.readFile(path), file: path)
        let problems = check(value, schema, root: schema, at: "$")
        #expect(problems.isEmpty, "\(problems.joined(separator: "; "))", sourceLocation: sourceLocation)
    }

    static func check(_ value: JSONValue, _ schema: JSONValue, root: JSONValue, at path: String) -> [String] {
        guard let s = schema.object else { return [] }
        if let ref = s["$ref"]?.string, ref.hasPrefix("#/$defs/"), let target = root.object?["$defs"]?.object?[String(ref.dropFirst(8))] {
            return check(value, target, root: root, at: path)
        }
        var problems: [String] = []
        if let types = s["type"].map({ $0.array?.compactMap(\.string) ?? [$0.string ?? ""] }), !types.contains(where: { matches(value, $0) }) {
            problems.append("\(path): expected \(types.joined(separator: " or ")), found \(value.typeName)")
        }
        if let options = s["enum"]?.array, !options.contains(value) { problems.append("\(path): \(JSONWriter.write(value)) is not one of the allowed values") }
        if let minimum = s["minimum"]?.number, let x = value.number, x < minimum { problems.append("\(path): \(x) is below \(minimum)") }
        if let anyOf = s["anyOf"]?.array, !anyOf.contains(where: { check(value, $0, root: root, at: path).isEmpty }) {
            problems.append("\(path): matches none of anyOf")
        }
        if let object = value.object {
            let properties = s["properties"]?.object
            for key in s["required"]?.array?.compactMap(\.string) ?? [] where object[key] == nil { problems.append("\(path): \(key) is required") }
            for member in object.members {
                if let sub = properties?[member.key] {
                    problems += check(member.value, sub, root: root, at: "\(path).\(member.key)")
                } else if s["additionalProperties"] == .bool(false) {
                    problems.append("\(path): \(member.key) is not allowed")
                }
            }
        }
        if let items = value.array, let itemSchema = s["items"] {
            for (i, item) in items.enumerated() { problems += check(item, itemSchema, root: root, at: "\(path)[\(i)]") }
        }
        return problems
    }

    static func matches(_ value: JSONValue, _ type: String) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null), ("number", .number): true
        case ("integer", .number(let x)): x == x.rounded()
        default: false
        }
    }
}

struct GradescopeSchemaCopyTests {
    /// The committed schema is byte-identical to the published one when `../shared` is present (a fresh CI
    /// clone may not have it; then the committed copy is all there is).
    @Test func theCommittedSchemaIsThePublishedOne() throws {
        guard FileManager.default.fileExists(atPath: GradescopeSchema.published) else { return }
        #expect(try SubmissionLoader.readFile(GradescopeSchema.path) == SubmissionLoader.readFile(GradescopeSchema.published))
    }
}
