import Foundation
import Numerics
import Model
import Formats

/// The exercise-owned matrices, built from a spec's `fixed` section.
///
/// Besides plain matrices (dense or sparse by name) a spec may use generators:
/// `{"one_hot": "tok:"}` (row `r` writes 1 to dim `tok:r`), `{"read": "out:"}` (output `o` reads dim
/// `out:o`), and for `W_pos` `{"sinusoidal": [{"cos": "c0", "sin": "s0", "alpha": 0.5, "amplitude": 1}]}`
/// (`W_pos[t, c0] = amplitude·cos(alpha·t)`, `W_pos[t, s0] = amplitude·sin(alpha·t)`). A generator object
/// may add `"plus": {sparse entries}`.
package struct FixedMatrices {
    package var wE: Matrix
    package var wPos: Matrix?
    package var wU: Matrix
    package var bU: [Double]

    package static func parse(_ f: JSONFields, frame: SpecParser.Frame) throws -> FixedMatrices {
        let names = frame.layout.names
        let inputs = frame.vocab + (frame.bos.map { [$0] } ?? [])
        let wE = try matrix(f, "W_E", rows: inputs, columns: names, rowAxis: "token", columnAxis: "residual dim", frame: frame)
        var wPos: Matrix? = nil
        if frame.positional != .none {
            wPos = try matrix(
                f, "W_pos", rows: (0..<frame.nCtx).map(String.init), columns: names,
                rowAxis: "position", columnAxis: "residual dim", frame: frame)
        } else if f.has("W_pos") {
            throw f.error("W_pos", "the exercise has positional \"none\"; remove W_pos or choose a positional mode")
        }
        let wU = try matrix(f, "W_U", rows: names, columns: frame.outputs, rowAxis: "residual dim", columnAxis: "output", frame: frame)
        let bU =
            try f.has("b_U")
            ? JSONMatrix.vector(try f.value("b_U"), file: f.file, location: f.path("b_U")).resolve(
                frame.outputs, axis: "output", file: f.file, location: f.path("b_U"))
            : [Double](repeating: 0, count: frame.outputs.count)
        return FixedMatrices(wE: wE, wPos: wPos, wU: wU, bU: bU)
    }

    private static let generatorKeys = ["one_hot", "read", "sinusoidal", "plus"]

    private static func matrix(
        _ f: JSONFields, _ key: String, rows: [String], columns: [String],
        rowAxis: String, columnAxis: String, frame: SpecParser.Frame
    ) throws -> Matrix {
        let value = try f.value(key)
        let location = f.path(key)
        if let object = value.object, object.keys.contains(where: generatorKeys.contains) {
            let g = try JSONFields(value, file: f.file, path: location, allowed: generatorKeys)
            var m = Matrix(zeros: rows.count, columns.count)
            if let prefix = try g.optionalString("one_hot") {
                try fillOneHot(&m, lines: rows, prefix: prefix, others: columns, byRow: true, g, "one_hot")
            }
            if let prefix = try g.optionalString("read") {
                try fillOneHot(&m, lines: columns, prefix: prefix, others: rows, byRow: false, g, "read")
            }
            if g.has("sinusoidal") { try fillSinusoidal(&m, columns: columns, g) }
            if g.has("plus") {
                m =
                    m
                    + (try JSONMatrix.matrix(try g.value("plus"), file: f.file, location: g.path("plus"))
                        .resolve(rows: rows, columns: columns, rowAxis: rowAxis, columnAxis: columnAxis, file: f.file, location: g.path("plus")))
            }
            return m
        }
        return try JSONMatrix.matrix(value, file: f.file, location: location)
            .resolve(rows: rows, columns: columns, rowAxis: rowAxis, columnAxis: columnAxis, file: f.file, location: location)
    }

    /// Line `i` (a row when `byRow`, else a column) gets a 1 at the dim named `prefix + lines[i]`, when that
    /// dim exists; lines without a dim stay zero (e.g. the `none` output reads nothing).
    private static func fillOneHot(
        _ m: inout Matrix, lines: [String], prefix: String, others: [String], byRow: Bool,
        _ g: JSONFields, _ key: String
    ) throws {
        var placed = 0
        for (i, line) in lines.enumerated() {
            guard let j = others.firstIndex(of: prefix + line) else { continue }
            if byRow { m[i, j] = 1 } else { m[j, i] = 1 }
            placed += 1
        }
        guard placed > 0 else { throw g.error(key, "no residual dim starts with \"\(prefix)\" followed by a name on this axis") }
    }

    private static func fillSinusoidal(_ m: inout Matrix, columns: [String], _ g: JSONFields) throws {
        for (k, item) in try g.array("sinusoidal").enumerated() {
            let p = try JSONFields(item, file: g.file, path: g.path("sinusoidal[\(k)]"), allowed: ["cos", "sin", "alpha", "amplitude"])
            let alpha = try p.number("alpha")
            let amplitude = try p.optionalNumber("amplitude") ?? 1
            for (key, wave) in [("cos", cos as (Double) -> Double), ("sin", sin)] {
                let name = try p.string(key)
                guard let c = columns.firstIndex(of: name) else { throw p.error(key, "unknown residual dim \"\(name)\"") }
                for t in 0..<m.rows { m[t, c] += amplitude * wave(alpha * Double(t)) }
            }
        }
    }
}
