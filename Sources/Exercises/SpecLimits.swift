import Numerics
import Model
import Formats

/// Spec-wide checks that no single key can make: the total work a spec's generated families ask for, and
/// finite fixed matrices (a sinusoidal `alpha` of 1e308 makes `cos(alpha·t)` NaN).
///
/// Called once by `SpecParser.parse`, after the families are parsed and before anything is generated.
package enum SpecLimits {
    /// Throws when the generated families would produce more than `InputLimits.maxGeneratedTokens` tokens
    /// (`count × max length`, summed), or when a fixed matrix holds a value that is not finite or is beyond
    /// `InputLimits.maxAbsWeight`.
    package static func check(fixed: FixedMatrices, families: [ExerciseSpec.Family], _ root: JSONFields) throws {
        var total = 0
        for family in families {
            guard case .generated(let generator, _) = family.source else { continue }
            let (tokens, overflow) = generator.count.multipliedReportingOverflow(by: generator.length.upperBound)
            let (sum, overflow2) = total.addingReportingOverflow(tokens)
            guard !overflow, !overflow2, sum <= InputLimits.maxGeneratedTokens else {
                throw root.error(
                    "families",
                    "the generated families ask for more than \(InputLimits.maxGeneratedTokens) tokens (count × max length, summed; family \"\(family.id)\" brings the total to \(overflow || overflow2 ? "more" : String(sum))); lower a count or a length"
                )
            }
            total = sum
        }
        let matrices: [(String, Matrix?)] = [
            ("W_E", fixed.wE), ("W_pos", fixed.wPos), ("W_U", fixed.wU),
            ("b_U", Matrix(rows: 1, columns: fixed.bU.count, values: fixed.bU)),
        ]
        for case let (name, m?) in matrices {
            guard let flat = m.values.firstIndex(where: { !$0.isFinite || abs($0) > InputLimits.maxAbsWeight }) else { continue }
            let value = m.values[flat]
            let text = value.isNaN ? "NaN" : value.isInfinite ? (value < 0 ? "-infinity" : "infinity") : NumberText.exact(value)
            throw root.error(
                "fixed",
                "\(name)[\(flat / max(m.columns, 1))][\(flat % max(m.columns, 1))] is \(text); fixed values must be finite and within ±\(NumberText.exact(InputLimits.maxAbsWeight)) (check a sinusoidal alpha or amplitude)"
            )
        }
    }
}
