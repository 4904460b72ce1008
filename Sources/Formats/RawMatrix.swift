import Numerics
import Model

/// A matrix as a submission wrote it, before it is placed on the exercise's named axes.
///
/// `dense` is a full table (labels optional, e.g. from a CSV header); `sparse` lists only the non-zero
/// entries by dimension name, as in `{"tok:A": {"q:isA": 1}}`.
public enum RawMatrix: Equatable, Sendable {
    case dense(Matrix, rowLabels: [String]?, columnLabels: [String]?)
    case sparse([SparseEntry])

    /// One named entry of a sparse matrix.
    public struct SparseEntry: Equatable, Sendable {
        public var row: String
        public var column: String
        public var value: Double
    }

    /// The shape, when dense.
    public var denseShape: [Int]? {
        if case .dense(let m, _, _) = self { m.shape } else { nil }
    }

    /// The row (or column) names used, in order of first appearance; nil when dense and unlabelled.
    public func names(rows: Bool) -> [String]? {
        switch self {
        case .dense(_, let r, let c): return rows ? r : c
        case .sparse(let entries):
            var seen = Set<String>()
            return entries.map { rows ? $0.row : $0.column }.filter { seen.insert($0).inserted }
        }
    }

    /// The transpose (for the column-vector convention).
    public var transposed: RawMatrix {
        switch self {
        case .dense(let m, let r, let c): return .dense(m.transposed, rowLabels: c, columnLabels: r)
        case .sparse(let e): return .sparse(e.map { SparseEntry(row: $0.column, column: $0.row, value: $0.value) })
        }
    }

    /// Places the matrix on axes named `rows` × `columns`; unlabelled dense matrices must match their
    /// counts exactly. Errors name `file` and `location` and say what was expected.
    public func resolve(
        rows: [String], columns: [String], rowAxis: String, columnAxis: String,
        file: String, location: String
    ) throws -> Matrix {
        let fail = { (message: String) in GraderError(file: file, location: location, message) }
        var out = Matrix(zeros: rows.count, columns.count)
        let rowIndex = Dictionary(rows.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let columnIndex = Dictionary(columns.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        func index(_ name: String, _ table: [String: Int], _ axis: String, _ all: [String]) throws -> Int {
            guard let i = table[name] else {
                throw fail(
                    "unknown \(axis) name \"\(name)\"\(NameSuggestion.hint(name, among: all)) (expected one of: \(all.prefix(24).joined(separator: ", "))\(all.count > 24 ? ", …" : ""))"
                )
            }
            return i
        }
        switch self {
        case .sparse(let entries):
            for e in entries {
                out[try index(e.row, rowIndex, rowAxis, rows), try index(e.column, columnIndex, columnAxis, columns)] = e.value
            }
        case .dense(let m, let rowLabels, let columnLabels):
            let expected =
                "expected shape \(shapeText([rows.count, columns.count])) (\(plural(rows.count, rowAxis)) × \(plural(columns.count, columnAxis))), found \(shapeText(m.shape))"
            let transposed = m.rows == columns.count && m.columns == rows.count ? ": transposed?" : ""
            if rowLabels == nil && m.rows != rows.count { throw fail(expected + transposed) }
            if columnLabels == nil && m.columns != columns.count { throw fail(expected + transposed) }
            let rowTargets = try rowLabels.map { try $0.map { try index($0, rowIndex, rowAxis, rows) } } ?? Array(0..<m.rows)
            let columnTargets = try columnLabels.map { try $0.map { try index($0, columnIndex, columnAxis, columns) } } ?? Array(0..<m.columns)
            for (r, tr) in rowTargets.enumerated() {
                for (c, tc) in columnTargets.enumerated() {
                    try checkWeight(m[r, c], file: file, location: "\(location)[\(r)][\(c)]")
                    out[tr, tc] = m[r, c]
                }
            }
        }
        return out
    }
}

/// A vector as a submission wrote it: dense, or sparse by dimension name.
public enum RawVector: Equatable, Sendable {
    case dense([Double])
    case sparse([(String, Double)])

    public static func == (lhs: RawVector, rhs: RawVector) -> Bool {
        switch (lhs, rhs) {
        case (.dense(let a), .dense(let b)): a == b
        case (.sparse(let a), .sparse(let b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// The names used, nil when dense.
    public var names: [String]? { if case .sparse(let e) = self { e.map(\.0) } else { nil } }

    /// Places the vector on an axis named `names`.
    public func resolve(_ names: [String], axis: String, file: String, location: String) throws -> [Double] {
        switch self {
        case .dense(let v):
            guard v.count == names.count else {
                throw GraderError(file: file, location: location, "expected \(plural(names.count, "value")) (one per \(axis)), found \(v.count)")
            }
            return v
        case .sparse(let entries):
            var out = [Double](repeating: 0, count: names.count)
            for (name, value) in entries {
                guard let i = names.firstIndex(of: name) else {
                    throw GraderError(file: file, location: location, "unknown \(axis) name \"\(name)\"\(NameSuggestion.hint(name, among: names))")
                }
                out[i] = value
            }
            return out
        }
    }
}
