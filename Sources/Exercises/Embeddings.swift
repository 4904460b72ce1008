import Numerics
import Model
import Formats

/// The embedding side of a graded model: the exercise's fixed `W_E`, `W_pos`, `W_U`, `b_U`, or in
/// exploration mode the student's. A submission that repeats a fixed matrix must repeat it exactly.
package struct Embeddings {
    package var wE: Matrix
    package var wPos: Matrix?
    package var wU: Matrix
    package var bU: [Double]

    /// Tolerance for "equal to the exercise's matrix" when the values are exact (float64, integers, text):
    /// `|a - b| <= 1e-9 * max(1, |b|)`.
    package static let tolerance = 1e-9

    /// The tolerance for a matrix stored with machine epsilon `precision` (nil: exact): `8 * precision`
    /// (float32 ≈ 9.5e-7, float16 ≈ 7.8e-3, bfloat16 ≈ 6.3e-2), never below `tolerance`. Text whose numbers
    /// are all float32 values (as `tensor.tolist()` or pandas write a float32 model) counts as float32.
    package static func tolerance(precision: Double?, values: [Double]) -> Double {
        if let precision { return max(tolerance, 8 * precision) }
        let float32 = values.allSatisfy { x in Double(Float(x)) == x || Double("\(Float(x))") == x }
        return float32 && !values.isEmpty ? 8 * 0x1p-23 : tolerance
    }

    package init(_ s: Submission, spec: ExerciseSpec) throws {
        let names = spec.layout.names
        let anthropic = s.convention == .anthropic
        func given(_ name: String, rows: [String], columns: [String], rowAxis: String, columnAxis: String) throws -> Matrix? {
            guard var raw = s.embeddings[name] else { return nil }
            if anthropic { raw = raw.transposed }
            return try raw.resolve(rows: rows, columns: columns, rowAxis: rowAxis, columnAxis: columnAxis, file: s.file, location: name)
        }
        let wE = try given("W_E", rows: spec.inputTokens, columns: names, rowAxis: "token", columnAxis: "residual dim")
        // TransformerLens always saves pos_embed.W_pos: an all-zero one adds nothing, so a no-position exercise ignores it.
        let ignoredPos = spec.positional == .none && s.embeddings["W_pos"].map(Self.isAllZero) == true
        let wPos =
            ignoredPos
            ? nil : try given("W_pos", rows: spec.positionNames, columns: names, rowAxis: "position", columnAxis: "residual dim")
        let wU = try given("W_U", rows: names, columns: spec.outputs, rowAxis: "residual dim", columnAxis: "output")
        let bU = try s.bU.map { try $0.resolve(spec.outputs, axis: "output", file: s.file, location: "b_U") }
        if spec.positional == .none, wPos != nil {
            throw GraderError(
                file: s.file, location: "W_pos",
                "exercise \(spec.id) has no positional encoding, but W_pos has non-zero values; remove W_pos or make it all zeros (with TransformerLens: model.W_pos.data.zero_())"
            )
        }
        if spec.studentEmbeddings {
            self.wE = wE ?? spec.wE
            self.wPos = wPos ?? spec.wPos
            self.wU = wU ?? spec.wU
            self.bU = bU ?? spec.bU
            return
        }
        try Self.requireEqual(wE, spec.wE, "W_E", s, rows: spec.inputTokens, columns: names)
        if let wPos, let fixed = spec.wPos { try Self.requireEqual(wPos, fixed, "W_pos", s, rows: spec.positionNames, columns: names) }
        try Self.requireEqual(wU, spec.wU, "W_U", s, rows: names, columns: spec.outputs)
        if let bU {
            try Self.requireEqual(
                Matrix(rows: 1, columns: bU.count, values: bU), Matrix(rows: 1, columns: spec.bU.count, values: spec.bU), "b_U", s, rows: ["b_U"],
                columns: spec.outputs)
        }
        self.wE = spec.wE
        self.wPos = spec.wPos
        self.wU = spec.wU
        self.bU = spec.bU
    }

    private static func requireEqual(
        _ given: Matrix?, _ fixed: Matrix, _ name: String, _ s: Submission,
        rows: [String], columns: [String]
    ) throws {
        guard let given else { return }
        let tol = Self.tolerance(precision: s.precision[name], values: given.values)
        for r in 0..<fixed.rows {
            for c in 0..<fixed.columns where abs(given[r, c] - fixed[r, c]) > tol * max(1, abs(fixed[r, c])) {
                throw GraderError(
                    file: s.file, location: name,
                    "differs from the exercise's fixed \(name) at [\(rows[r]), \(columns[c])]: expected \(NumberText.exact(fixed[r, c])), found \(NumberText.exact(given[r, c])); the exercise owns this matrix, so leave it out or copy it exactly (relative tolerance \(NumberText.exact(tol)))"
                )
            }
        }
    }

    /// Whether every entry of `raw` is zero.
    package static func isAllZero(_ raw: RawMatrix) -> Bool {
        switch raw {
        case .dense(let m, _, _): m.values.allSatisfy { $0 == 0 }
        case .sparse(let entries): entries.allSatisfy { $0.value == 0 }
        }
    }
}
