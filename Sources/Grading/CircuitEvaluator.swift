import Numerics
import Model
import Formats
import Exercises

/// Scores circuit checks on a model's weights.
package struct CircuitEvaluator {
    package let spec: ExerciseSpec
    package let model: Transformer

    /// Relative size below which an entry counts as zero.
    package static let zeroTolerance = 1e-9

    package func evaluate(_ check: CircuitCheck, index: Int) -> TargetResult {
        let expected =
            describe(check.predicate) + (check.minGain.map { ", counting gains ≥ \(NumberText.exact($0)) of the factors' largest" } ?? "")
            + (check.unbiased ? ", with no biases" : "")
        func result(_ correct: Bool, _ found: String) -> TargetResult {
            TargetResult(
                caseIndex: index, item: .check(id: check.id), correct: correct, margin: nil,
                expected: "\(check.product.map(\.description).joined(separator: " · "))\(check.restriction): \(expected)", found: found)
        }
        var product: Matrix? = nil
        var factorGains = 1.0  // Π σ_max(factor): what `min_gain` is a share of
        for factor in check.product {
            guard factor.head.layer < model.layers.count, factor.head.head < model.layers[factor.head.layer].heads.count else {
                return result(false, "the submission has no head \(factor.head)")
            }
            let head = model.layers[factor.head.layer].heads[factor.head.head]
            if check.unbiased, let bias = Self.bias(of: head, factor.kind) {
                return result(false, "\(factor.head) has \(bias): the check reads the weights alone, so the circuit must not need a bias")
            }
            let m: Matrix
            switch factor.kind {
            case .qk: m = head.wQK
            case .ov: m = head.wOV
            case .qkT: m = head.wQK.transposed
            case .ovT: m = head.wOV.transposed
            }
            product = product.map { $0.multiplied(by: m) } ?? m
            if check.minGain != nil { factorGains *= m.singularValues.first ?? 0 }
        }
        guard let full = product else { return result(false, "empty product") }
        let rows = (check.rows ?? spec.layout.names).compactMap(spec.layout.index)
        let columns = (check.columns ?? spec.layout.names).compactMap(spec.layout.index)
        let block = full.submatrix(rows: rows, columns: columns)
        let scale = max(full.maxAbs, 1e-300)
        // The smallest gain that counts as a path: with `min_gain`, a share of the factors' gains.
        let floor = check.minGain.map { $0 * factorGains }
        func rank() -> (Int, String) {
            guard let floor else { let r = block.rank(); return (r, "rank \(r)") }
            let r = block.singularValues.filter { $0 >= floor && $0 > 1e-12 }.count
            return (r, "rank \(r) counting gains ≥ \(NumberText.rounded(floor))")
        }
        switch check.predicate {
        case .rankAtMost(let n): let (r, found) = rank(); return result(r <= n, found)
        case .rankEquals(let n): let (r, found) = rank(); return result(r == n, found)
        case .rankAtLeast(let n): let (r, found) = rank(); return result(r >= n, found)
        case .zero: return result(block.maxAbs <= Self.zeroTolerance * scale || block.maxAbs == 0, "largest entry \(NumberText.rounded(block.maxAbs))")
        case .nonzero:
            let least = floor ?? Self.zeroTolerance * scale
            return result(block.maxAbs > least && block.maxAbs > 0, "largest entry \(NumberText.rounded(block.maxAbs))")
        case .copies(let from, let to): return copies(full, from: from, to: to, floor: floor, result: result)
        case .readsOnly(let dims): return confined(full, to: dims, rows: check.rowsRead, columns: check.columnsRead, verb: "reads", result: result)
        case .writesOnly(let dims): return confined(full, to: dims, rows: !check.rowsRead, columns: !check.columnsRead, verb: "writes", result: result)
        }
    }

    /// Whether every entry of `m` outside `dims` is zero on the chosen sides; else names the largest.
    private func confined(
        _ m: Matrix, to dims: [String], rows: Bool, columns: Bool, verb: String, result: (Bool, String) -> TargetResult
    ) -> TargetResult {
        let inside = Set(dims.compactMap(spec.layout.index))
        let tolerance = Self.zeroTolerance * max(m.maxAbs, 1e-300)
        var worst: (value: Double, dim: Int, side: String)? = nil
        for r in 0..<m.rows {
            for c in 0..<m.columns {
                let x = abs(m[r, c])
                guard x > tolerance, x > (worst?.value ?? 0) else { continue }
                if rows && !inside.contains(r) {
                    worst = (x, r, check(rowSide: true))
                } else if columns && !inside.contains(c) {
                    worst = (x, c, check(rowSide: false))
                }
            }
        }
        guard let w = worst else { return result(true, "\(verb) only the allowed dims") }
        return result(false, "\(verb) \(spec.layout.names[w.dim]) on the \(w.side) side (entry \(NumberText.rounded(w.value)))")
    }

    private func check(rowSide: Bool) -> String { rowSide ? "row (query / input)" : "column (key / output)" }

    private func copies(
        _ m: Matrix, from: [String], to: [String], floor: Double?, result: (Bool, String) -> TargetResult
    ) -> TargetResult {
        var gains: [Double] = []
        let scale = max(m.maxAbs, 1e-300)
        for (a, b) in zip(from, to) {
            guard let r = spec.layout.index(of: a), let c = spec.layout.index(of: b) else { return result(false, "unknown dim") }
            let gain = m[r, c]
            guard gain > (floor ?? Self.zeroTolerance * scale) else {
                return result(false, "\(a) is not copied to \(b) (entry \(NumberText.rounded(gain)))")
            }
            for j in 0..<m.columns where j != c && abs(m[r, j]) > 1e-6 * gain {
                return result(false, "\(a) also writes \(NumberText.rounded(m[r, j])) to \(spec.layout.names[j])")
            }
            gains.append(gain)
        }
        if let lo = gains.min(), let hi = gains.max(), hi - lo > 1e-6 * hi {
            return result(false, "gains differ across dims (\(NumberText.rounded(lo)) to \(NumberText.rounded(hi)))")
        }
        return result(true, "copies with gain \(NumberText.rounded(gains.first ?? 0))")
    }

    /// The first non-zero bias `head` adds to the circuit of `kind` (`b_Q`, `b_K` for QK; `b_V` for OV), named.
    private static func bias(of head: AttentionHead, _ kind: CircuitCheck.Factor.Kind) -> String? {
        let named: [(String, [Double])]
        switch kind {
        case .qk, .qkT: named = [("b_Q", head.bQ), ("b_K", head.bK)]
        case .ov, .ovT: named = [("b_V", head.bV)]
        }
        for (name, b) in named {
            if let i = b.firstIndex(where: { $0 != 0 }) { return "\(name)[\(i)] = \(NumberText.rounded(b[i]))" }
        }
        return nil
    }

    private func describe(_ p: CircuitCheck.Predicate) -> String {
        switch p {
        case .rankAtMost(let n): "rank ≤ \(n)"
        case .rankEquals(let n): "rank = \(n)"
        case .rankAtLeast(let n): "rank ≥ \(n)"
        case .zero: "zero"
        case .nonzero: "non-zero"
        case .copies(let from, let to): "copies \(from.joined(separator: ",")) → \(to.joined(separator: ","))"
        case .readsOnly(let dims): "reads only \(DimList.compact(dims))"
        case .writesOnly(let dims): "writes only \(DimList.compact(dims))"
        }
    }
}

/// Scores answers to conceptual questions.
package enum QuestionEvaluator {
    package static func evaluate(_ q: Question, index: Int, answers: [String: JSONValue]) -> TargetResult {
        let expected: String
        let correct: Bool
        let given = answers[q.id]
        switch q.answer {
        case .set(let items):
            expected = "{" + items.joined(separator: ", ") + "}"
            let words = given?.array?.compactMap(\.string) ?? given?.string.map { $0.split(separator: ",").map(String.init) } ?? []
            correct = Set(words.map(Question.normalized)) == Set(items.map(Question.normalized))
        case .choice(let options):
            expected = options.first ?? ""
            correct = given?.string.map { g in options.map(Question.normalized).contains(Question.normalized(g)) } ?? false
        case .number(let x, let tolerance):
            expected = NumberText.exact(x)
            correct = given?.number.map { abs($0 - x) <= tolerance } ?? false
        }
        let found = given.map { JSONWriter.write($0, pretty: false) } ?? "no answer"
        return TargetResult(caseIndex: index, item: .question(id: q.id), correct: correct, margin: nil, expected: "\(q.id): \(expected)", found: found)
    }
}
