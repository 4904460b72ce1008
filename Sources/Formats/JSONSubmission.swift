import Numerics
import Model

/// Reads a JSON submission in the nested form:
/// `{"exercise": "...", "convention": "transformer_lens", "layers": [{"heads": [{"W_Q": ..., ...}], "b_O": ...}],
///   "answers": {...}, "meta": {...}}`; or, when its keys are TransformerLens state-dict names
/// (`blocks.0.attn.W_Q` …), in that form.
public enum JSONSubmission {
    package static let topKeys = ["exercise", "convention", "layers", "W_E", "W_pos", "W_U", "b_U", "answers", "meta", "$comment"]
    package static let headKeys = Submission.factoredNames + Submission.circuitNames + Submission.biasNames + ["$comment"]

    /// Parses `bytes` read from `file`.
    public static func parse(_ bytes: [UInt8], file: String) throws -> Submission {
        let root = try JSONParser.parse(bytes, file: file, pythonNonFinite: true)
        guard let object = root.object else {
            throw GraderError(file: file, "expected a JSON object with \"exercise\" and \"layers\", found \(root.typeName)")
        }
        if object.keys.contains(where: StateDict.isStateDictName) { return try stateDict(object, file: file) }
        let f = try JSONFields(root, file: file, path: "", allowed: topKeys)
        var s = Submission(file: file)
        s.exercise = try f.optionalString("exercise")
        s.convention = try f.choice("convention", default: .transformerLens)
        for (l, layerValue) in try f.array("layers").enumerated() {
            guard l < InputLimits.maxLayers else { throw f.error("layers", "more than \(InputLimits.maxLayers) layers") }
            s.layers.append(try layer(layerValue, file: file, path: "layers[\(l)]"))
        }
        for name in Submission.embeddingNames where f.has(name) {
            s.embeddings[name] = try JSONMatrix.matrix(try f.value(name), file: file, location: name)
        }
        if f.has("b_U") { s.bU = try JSONMatrix.vector(try f.value("b_U"), file: file, location: "b_U") }
        if f.has("answers") {
            guard let answers = try f.value("answers").object else { throw f.error("answers", "expected an object {question id: answer}") }
            for m in answers.members { s.answers[m.key] = m.value }
        }
        return s
    }

    private static func layer(_ value: JSONValue, file: String, path: String) throws -> Submission.Layer {
        let f = try JSONFields(value, file: file, path: path, allowed: ["heads", "b_O", "$comment"])
        var layer = Submission.Layer()
        for (h, headValue) in try f.array("heads").enumerated() {
            guard h < InputLimits.maxHeads else { throw f.error("heads", "more than \(InputLimits.maxHeads) heads") }
            let hf = try JSONFields(headValue, file: file, path: "\(path).heads[\(h)]", allowed: headKeys)
            var head = Submission.Head()
            for name in Submission.factoredNames + Submission.circuitNames where hf.has(name) {
                head.matrices[name] = try JSONMatrix.matrix(try hf.value(name), file: file, location: hf.path(name))
            }
            for name in Submission.biasNames where hf.has(name) {
                head.biases[name] = try JSONMatrix.vector(try hf.value(name), file: file, location: hf.path(name))
            }
            layer.heads.append(head)
        }
        if f.has("b_O") { layer.bO = try JSONMatrix.vector(try f.value("b_O"), file: file, location: f.path("b_O")) }
        return layer
    }

    private static func stateDict(_ object: JSONObject, file: String) throws -> Submission {
        var tensors: [(name: String, tensor: Tensor)] = []
        var exercise: String? = nil
        var convention = Submission.Convention.transformerLens
        for m in object.members {
            switch m.key {
            case "exercise":
                guard let s = m.value.string else { throw GraderError(file: file, location: "exercise", line: m.line, "expected a string") }
                exercise = s
            case "convention":
                guard let s = m.value.string, let c = Submission.Convention(rawValue: s) else {
                    throw GraderError(file: file, location: "convention", line: m.line, "expected \"transformer_lens\" or \"anthropic\"")
                }
                convention = c
            case "meta", "$comment":
                continue
            case let name where TransformerLensNames.isIgnoredBuffer(name):
                continue
            default:
                tensors.append((m.key, try JSONTensor.parse(m.value, file: file, location: m.key)))
            }
        }
        return try StateDict.submission(tensors, file: file, exercise: exercise, convention: convention)
    }
}

/// Reads an n-dimensional JSON array of numbers as a `Tensor`.
package enum JSONTensor {
    package static func parse(_ value: JSONValue, file: String, location: String) throws -> Tensor {
        var shape: [Int] = []
        var probe = value
        while let a = probe.array {
            shape.append(a.count)
            guard shape.count <= 8 else { throw GraderError(file: file, location: location, "nested deeper than 8 dimensions") }
            guard let first = a.first else { break }
            probe = first
        }
        // The shape comes from the first item at each depth; its product is checked before anything is built.
        _ = try BinaryTensor.elementCount(of: shape, at: BinarySite(file: file, location: location))
        var values: [Double] = []
        try collect(value, depth: 0, shape: shape, into: &values, file: file, location: location)
        return Tensor(shape: shape, values: values)
    }

    private static func collect(
        _ value: JSONValue, depth: Int, shape: [Int], into values: inout [Double],
        file: String, location: String
    ) throws {
        if depth == shape.count {
            guard let x = value.number else {
                throw GraderError(file: file, location: location, "expected a number at depth \(depth), found \(value.typeName)")
            }
            try checkWeight(x, file: file, location: location)
            values.append(x)
            return
        }
        guard let items = value.array, items.count == shape[depth] else {
            throw GraderError(
                file: file, location: location,
                "is not a rectangular array: expected \(shape[depth]) items at depth \(depth) (shape \(shapeText(shape)))")
        }
        for item in items { try collect(item, depth: depth + 1, shape: shape, into: &values, file: file, location: location) }
    }
}
