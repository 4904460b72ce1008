import Foundation
import Numerics
import Model
import Formats
import Exercises
import Grading

/// The folder form of a template: one labelled CSV per matrix (`L0H0.W_Q.csv` …, a `#` comment line, a header
/// row of column names, a first column of row names) and `exercise.txt`, as `FolderSubmission` reads them.
/// Head dims are named `h0`, `h1`, … (names, not numbers, so the CSV reader sees a header row).
extension SubmissionTemplate {
    /// The files, in a fixed order.
    public var csvFiles: [File] {
        var files = [File(name: "exercise.txt", text: spec.id + "\n")]
        for ref in heads {
            for (name, rows, columns) in headShapes {
                files.append(
                    File(
                        name: "\(ref).\(name).csv",
                        text: Self.csv(
                            Matrix(zeros: rows.count, columns.count), name: name, rows: rows, columns: columns,
                            comment: "\(ref) \(name): rows \(axis(rows)), columns \(axis(columns))")))
            }
        }
        if spec.studentEmbeddings { files += embeddingFiles }
        return files
    }

    /// A folder name for the template: the exercise id with `/` as `-`.
    public var folderName: String { spec.id.replacingOccurrences(of: "/", with: "-") }

    /// Head dim names of the CSV form.
    package var headDims: [String] { (0..<dHead).map { "h\($0)" } }

    private var headShapes: [(String, [String], [String])] {
        [("W_Q", residual, headDims), ("W_K", residual, headDims), ("W_V", residual, headDims), ("W_O", headDims, residual)]
    }

    private func axis(_ names: [String]) -> String {
        names == residual
            ? "are the \(names.count) residual dims" : "are head dims h0..h\(dHead - 1) (d_head \(spec.limits.dHead.map { "at most \($0)" } ?? "free"))"
    }

    private var embeddingFiles: [File] {
        var out = [File(name: "W_E.csv", text: Self.csv(spec.wE, name: "W_E", rows: spec.inputTokens, columns: residual, comment: "W_E: rows are tokens"))]
        if let wPos = spec.wPos {
            out.append(
                File(name: "W_pos.csv", text: Self.csv(wPos, name: "W_pos", rows: nil, columns: residual, comment: "W_pos: one row per position, 0 first")))
        }
        out.append(File(name: "W_U.csv", text: Self.csv(spec.wU, name: "W_U", rows: residual, columns: spec.outputs, comment: "W_U: columns are outputs")))
        let bU = Matrix(rows: 1, columns: spec.bU.count, values: spec.bU)
        out.append(File(name: "b_U.csv", text: Self.csv(bU, name: "b_U", rows: ["b_U"], columns: spec.outputs, comment: "b_U: one value per output")))
        return out
    }

    /// A labelled CSV table: the comment, a header `name,columns…`, then `row,values…` per row. Without `rows`
    /// (labels that would read as numbers, such as positions) the header and the rows have no name column.
    package static func csv(_ m: Matrix, name: String, rows: [String]?, columns: [String], comment: String) -> String {
        let corner = rows == nil ? [] : [name]
        var out = "# \(comment)\n" + (corner + columns).joined(separator: ",") + "\n"
        for r in 0..<m.rows {
            let label = rows.map { [$0[r]] } ?? []
            out += (label + m.row(r).map(NumberText.exact)).joined(separator: ",") + "\n"
        }
        return out
    }
}
