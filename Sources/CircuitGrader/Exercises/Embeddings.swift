/// The embedding side of a graded model: the exercise's fixed `W_E`, `W_pos`, `W_U`, `b_U`, or in
/// exploration mode the student's. A submission that repeats a fixed matrix must repeat it exactly.
struct Embeddings {
    var wE: Matrix
    var wPos: Matrix?
    var wU: Matrix
    var bU: [Double]

    /// Tolerance for "equal to the exercise's matrix": `|a - b| <= 1e-9 * max(1, |b|)`.
    static let tolerance = 1e-9

    init(_ s: Submission, spec: ExerciseSpec) throws {
        let names = spec.layout.names
        let anthropic = s.convention == .anthropic
        func given(_ name: String, rows: [String], columns: [String], rowAxis: String, columnAxis: String) throws -> Matrix? {
            guard var raw = s.embeddings[name] else { return nil }
            if anthropic { raw = raw.transposed }
            return try raw.resolve(rows: rows, columns: columns, rowAxis: rowAxis, columnAxis: columnAxis, file: s.file, location: name)
        }
        let wE = try given("W_E", rows: spec.inputTokens, columns: names, rowAxis: "token", columnAxis: "residual dim")
        let wPos = try given("W_pos", rows: spec.positionNames, columns: names, rowAxis: "position", columnAxis: "residual dim")
        let wU = try given("W_U", rows: names, columns: spec.outputs, rowAxis: "residual dim", columnAxis: "output")
        let bU = try s.bU.map { try $0.resolve(spec.outputs, axis: "output", file: s.file, location: "b_U") }
        if spec.positional == .none, wPos != nil {
            throw GraderError(file: s.file, location: "W_pos", "exercise \(spec.id) has no positional encoding; remove W_pos")
        }
        if spec.studentEmbeddings {
            self.wE = wE ?? spec.wE
            self.wPos = wPos ?? spec.wPos
            self.wU = wU ?? spec.wU
            self.bU = bU ?? spec.bU
            return
        }
        try Self.requireEqual(wE, spec.wE, "W_E", s.file, rows: spec.inputTokens, columns: names)
        if let wPos, let fixed = spec.wPos { try Self.requireEqual(wPos, fixed, "W_pos", s.file, rows: spec.positionNames, columns: names) }
        try Self.requireEqual(wU, spec.wU, "W_U", s.file, rows: names, columns: spec.outputs)
        if let bU {
            try Self.requireEqual(
                Matrix(rows: 1, columns: bU.count, values: bU), Matrix(rows: 1, columns: spec.bU.count, values: spec.bU), "b_U", s.file, rows: ["b_U"],
                columns: spec.outputs)
        }
        self.wE = spec.wE
        self.wPos = spec.wPos
        self.wU = spec.wU
        self.bU = spec.bU
    }

    private static func requireEqual(
        _ given: Matrix?, _ fixed: Matrix, _ name: String, _ file: String,
        rows: [String], columns: [String]
    ) throws {
        guard let given else { return }
        for r in 0..<fixed.rows {
            for c in 0..<fixed.columns where abs(given[r, c] - fixed[r, c]) > tolerance * max(1, abs(fixed[r, c])) {
                throw GraderError(
                    file: file, location: name,
                    "differs from the exercise's fixed \(name) at [\(rows[r]), \(columns[c])]: expected \(JSONWriter.number(fixed[r, c])), found \(JSONWriter.number(given[r, c])); the exercise owns this matrix, so leave it out or copy it exactly"
                )
            }
        }
    }
}
