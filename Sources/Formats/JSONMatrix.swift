import Numerics
import Model

/// Reads matrices and vectors written in JSON: nested arrays (dense) or objects keyed by dimension name
/// (sparse). Every number must be finite and within `InputLimits.maxAbsWeight`.
package enum JSONMatrix {
    /// A matrix at `location` in `file`.
    package static func matrix(_ value: JSONValue, file: String, location: String) throws -> RawMatrix {
        switch value {
        case .array(let rows):
            return .dense(try dense(rows, file: file, location: location), rowLabels: nil, columnLabels: nil)
        case .object(let object):
            var entries: [RawMatrix.SparseEntry] = []
            for member in object.members {
                guard let inner = member.value.object else {
                    throw GraderError(
                        file: file, location: "\(location).\(member.key)", line: member.line,
                        "expected an object {column name: number}, found \(member.value.typeName)")
                }
                for cell in inner.members {
                    let where_ = "\(location).\(member.key).\(cell.key)"
                    guard let x = cell.value.number else {
                        throw GraderError(file: file, location: where_, line: cell.line, "expected a number, found \(cell.value.typeName)")
                    }
                    try checkWeight(x, file: file, location: where_)
                    entries.append(.init(row: member.key, column: cell.key, value: x))
                }
            }
            return .sparse(entries)
        default:
            throw GraderError(
                file: file, location: location,
                "expected a matrix (an array of rows, or an object of named entries), found \(value.typeName)")
        }
    }

    /// A vector at `location` in `file`.
    package static func vector(_ value: JSONValue, file: String, location: String) throws -> RawVector {
        switch value {
        case .array(let items):
            return .dense(try numbers(items, file: file, location: location))
        case .object(let object):
            return .sparse(
                try object.members.map { m in
                    guard let x = m.value.number else {
                        throw GraderError(file: file, location: "\(location).\(m.key)", line: m.line, "expected a number, found \(m.value.typeName)")
                    }
                    try checkWeight(x, file: file, location: "\(location).\(m.key)")
                    return (m.key, x)
                })
        default:
            throw GraderError(file: file, location: location, "expected a vector (an array of numbers, or an object of named entries), found \(value.typeName)")
        }
    }

    private static func dense(_ rows: [JSONValue], file: String, location: String) throws -> Matrix {
        guard rows.count <= InputLimits.maxDimension else {
            throw GraderError(file: file, location: location, "has \(rows.count) rows; at most \(InputLimits.maxDimension) are accepted")
        }
        var values: [Double] = []
        var width: Int? = nil
        for (r, row) in rows.enumerated() {
            guard let items = row.array else {
                throw GraderError(file: file, location: "\(location)[\(r)]", "expected a row (an array of numbers), found \(row.typeName)")
            }
            if let width, items.count != width {
                throw GraderError(
                    file: file, location: location, "row \(r) has \(plural(items.count, "value")) but row 0 has \(width); rows must all have the same length")
            }
            guard items.count <= InputLimits.maxDimension else {
                throw GraderError(file: file, location: location, "row \(r) has \(items.count) values; at most \(InputLimits.maxDimension) are accepted")
            }
            width = items.count
            values += try numbers(items, file: file, location: "\(location)[\(r)]")
        }
        return Matrix(rows: rows.count, columns: width ?? 0, values: values)
    }

    private static func numbers(_ items: [JSONValue], file: String, location: String) throws -> [Double] {
        try items.enumerated().map { i, item in
            guard let x = item.number else {
                throw GraderError(file: file, location: "\(location)[\(i)]", "expected a number, found \(item.typeName)")
            }
            try checkWeight(x, file: file, location: "\(location)[\(i)]")
            return x
        }
    }
}

/// Rejects weights that are NaN, infinite or beyond `InputLimits.maxAbsWeight`.
package func checkWeight(_ x: Double, file: String, location: String) throws {
    guard x.isFinite else { throw GraderError(file: file, location: location, "found \(x); every weight must be a finite number") }
    guard abs(x) <= InputLimits.maxAbsWeight else {
        throw GraderError(file: file, location: location, "found \(x); weights must lie within ±\(NumberText.exact(InputLimits.maxAbsWeight))")
    }
}
