import Numerics
import Model
import Formats

/// Checks a `Submission` against an exercise and builds the `Transformer` to grade.
///
/// It places named or dense matrices on the exercise's axes, turns the column-vector convention into the
/// internal one, enforces the limits (layers, heads, d_head, rank of circuit-form heads), and checks that
/// any fixed matrix the submission repeats equals the exercise's.
public enum ModelBuilder {
    /// The model for `submission` under `spec`.
    public static func build(_ submission: Submission, spec: ExerciseSpec) throws -> Transformer {
        let file = submission.file
        guard !submission.layers.isEmpty else {
            throw GraderError(file: file, location: "layers", "the submission has no layers; the exercise needs at least one")
        }
        guard submission.layers.count <= spec.limits.layers else {
            throw GraderError(
                file: file, location: "layers", "has \(plural(submission.layers.count, "layer")); exercise \(spec.id) allows at most \(spec.limits.layers)")
        }
        if submission.headCountUnknown && spec.limits.headsPerLayer > 1 {
            throw GraderError(
                file: file, location: TransformerLensNames.headCountKey,
                "a TransformerLens 4.x state dict does not say how its q/k/v/o rows split into heads, and exercise \(spec.id) allows up to \(spec.limits.headsPerLayer) heads per layer; save n_heads with it (safetensors metadata {\"n_heads\": \"2\"}, or an entry \"\(TransformerLensNames.headCountKey)\")"
            )
        }
        var layers = try submission.layers.enumerated().map { l, layer in
            try buildLayer(layer, index: l, submission: submission, spec: spec)
        }
        let embeddings = try Embeddings(submission, spec: spec)
        var heads: [(location: String, dHead: Int?)] = []
        for (l, layer) in layers.enumerated() {
            for (h, head) in layer.heads.enumerated() {
                let given = submission.layers[l].heads[h].matrices
                let factored = given["W_QK"] == nil && given["W_OV"] == nil
                heads.append(("layers[\(l)].heads[\(h)]", factored ? head.wQ.columns : nil))
            }
        }
        let scale = try AttentionScale.scale(spec, heads: heads, file: file)
        if let divisor = submission.attentionDivisor {
            // A TransformerLens 4.x model divides its scores by attn_scale; graded as it runs there.
            let fold = 1 / (divisor * scale)
            var next = heads.makeIterator()
            layers = layers.map { layer in
                AttentionLayer(
                    heads: layer.heads.map { head in
                        next.next()?.dHead == nil ? head : head.replacing(wQ: fold * head.wQ, bQ: head.bQ.map { fold * $0 })
                    }, bO: layer.bO)
            }
        }
        return Transformer(
            wE: embeddings.wE, wPos: embeddings.wPos, wU: embeddings.wU, bU: embeddings.bU, layers: layers,
            positional: spec.positional, causal: spec.causal, attentionScale: scale)
    }

    private static func buildLayer(
        _ layer: Submission.Layer, index l: Int, submission: Submission,
        spec: ExerciseSpec
    ) throws -> AttentionLayer {
        let file = submission.file
        guard !layer.heads.isEmpty, layer.heads.count <= spec.limits.headsPerLayer else {
            throw GraderError(
                file: file, location: "layers[\(l)].heads",
                "has \(plural(layer.heads.count, "head")); exercise \(spec.id) allows 1 to \(spec.limits.headsPerLayer) per layer")
        }
        let heads = try layer.heads.enumerated().map { h, head in
            try HeadBuilder(head: head, location: "layers[\(l)].heads[\(h)]", submission: submission, spec: spec).build()
        }
        let bO = try layer.bO?.resolve(spec.layout.names, axis: "residual dim", file: file, location: "layers[\(l)].b_O")
        return AttentionLayer(heads: heads, bO: bO ?? [Double](repeating: 0, count: spec.layout.dModel))
    }
}

/// Builds one head from its raw matrices.
package struct HeadBuilder {
    package let head: Submission.Head
    package let location: String
    package let submission: Submission
    package let spec: ExerciseSpec
    package var file: String { submission.file }
    package var anthropic: Bool { submission.convention == .anthropic }

    package func error(_ name: String?, _ message: String) -> GraderError {
        GraderError(file: file, location: name.map { "\(location).\($0)" } ?? location, message)
    }

    package func build() throws -> AttentionHead {
        let factored = Submission.factoredNames.filter { head.matrices[$0] != nil }
        let circuits = Submission.circuitNames.filter { head.matrices[$0] != nil }
        if !factored.isEmpty && !circuits.isEmpty {
            throw error(
                nil,
                "mixes factored matrices (\(factored.joined(separator: ", "))) with circuits (\(circuits.joined(separator: ", "))); give W_Q, W_K, W_V, W_O or W_QK, W_OV"
            )
        }
        if !circuits.isEmpty { return try buildCircuits() }
        return try buildFactored()
    }

    private func raw(_ name: String) throws -> RawMatrix? {
        guard let m = head.matrices[name] else {
            if spec.optionalMatrices.contains(name) { return nil }
            throw error(name, "is missing; a head needs W_Q, W_K, W_V, W_O (or W_QK and W_OV)")
        }
        return anthropic ? m.transposed : m
    }

    /// The inner (head-side) axis names shared by two matrices: dense widths or sparse names.
    private func innerNames(_ a: (String, RawMatrix?, Bool), _ b: (String, RawMatrix?, Bool)) throws -> [String] {
        func names(_ item: (String, RawMatrix?, Bool)) -> (String, [String]?, Int?) {
            guard let m = item.1 else { return (item.0, nil, nil) }
            if let shape = m.denseShape, m.names(rows: item.2) == nil { return (item.0, nil, item.2 ? shape[0] : shape[1]) }
            return (item.0, m.names(rows: item.2), nil)
        }
        let (na, la, wa) = names(a)
        let (nb, lb, wb) = names(b)
        if let wa, let wb, wa != wb {
            throw error(nil, "\(na) has d_head = \(wa) but \(nb) has d_head = \(wb); they must agree")
        }
        if let w = wa ?? wb {
            let ordinal = (0..<w).map(String.init)
            for name in (la ?? []) + (lb ?? []) where !ordinal.contains(name) {
                throw error(nil, "\"\(name)\" is not a head dim: with a dense \(wa != nil ? na : nb) of width \(w) the named entries must use 0..<\(w)")
            }
            return ordinal
        }
        var seen = Set<String>()
        return ((la ?? []) + (lb ?? [])).filter { seen.insert($0).inserted }
    }

    /// Refuses a dense, unlabelled matrix whose residual side is not d_model but whose other side is:
    /// "found [4, 25], expected [25, 4] ([d_model, d_head]): transposed?", in the submission's convention.
    private func requireOrientation(_ name: String, _ m: RawMatrix?, residualRows: Bool) throws {
        guard let m, let shape = m.denseShape, m.names(rows: true) == nil, m.names(rows: false) == nil else { return }
        let d = spec.layout.dModel
        guard (residualRows ? shape[0] : shape[1]) != d, (residualRows ? shape[1] : shape[0]) == d else { return }
        let written = anthropic ? [shape[1], shape[0]] : shape
        let axes = (residualRows != anthropic) ? "[d_model, d_head]" : "[d_head, d_model]"
        throw error(name, "found shape \(shapeText(written)), expected \(shapeText([written[1], written[0]])) (\(axes), d_model = \(d)): transposed?")
    }

    private func checkDHead(_ names: [String], _ what: String) throws {
        if let bound = spec.limits.dHead, names.count > bound {
            throw error(nil, "\(what) uses d_head = \(names.count) dims; exercise \(spec.id) allows at most \(bound)")
        }
    }

    private func buildFactored() throws -> AttentionHead {
        let (wQ, wK, wV, wO) = (try raw("W_Q"), try raw("W_K"), try raw("W_V"), try raw("W_O"))
        for (name, m) in [("W_Q", wQ), ("W_K", wK), ("W_V", wV), ("W_O", wO)] { try requireOrientation(name, m, residualRows: name != "W_O") }
        // In TransformerLens form: W_Q, W_K, W_V are [d_model, d_head] (inner axis = columns), W_O is [d_head, d_model].
        let qk = try innerNames(("W_Q", wQ, false), ("W_K", wK, false))
        let ov = try innerNames(("W_V", wV, false), ("W_O", wO, true))
        try checkDHead(qk, "W_Q/W_K")
        try checkDHead(ov, "W_V/W_O")
        let residual = spec.layout.names
        func place(_ m: RawMatrix?, _ name: String, rows: [String], columns: [String], rowAxis: String, columnAxis: String) throws -> Matrix {
            guard let m else { return Matrix(zeros: rows.count, columns.count) }
            return try m.resolve(rows: rows, columns: columns, rowAxis: rowAxis, columnAxis: columnAxis, file: file, location: "\(location).\(name)")
        }
        func bias(_ name: String, _ inner: [String]) throws -> [Double]? {
            try head.biases[name]?.resolve(inner, axis: "head dim", file: file, location: "\(location).\(name)")
        }
        return AttentionHead(
            wQ: try place(wQ, "W_Q", rows: residual, columns: qk, rowAxis: "residual dim", columnAxis: "head dim"),
            wK: try place(wK, "W_K", rows: residual, columns: qk, rowAxis: "residual dim", columnAxis: "head dim"),
            wV: try place(wV, "W_V", rows: residual, columns: ov, rowAxis: "residual dim", columnAxis: "head dim"),
            wO: try place(wO, "W_O", rows: ov, columns: residual, rowAxis: "head dim", columnAxis: "residual dim"),
            bQ: try bias("b_Q", qk), bK: try bias("b_K", qk), bV: try bias("b_V", ov))
    }

    private func buildCircuits() throws -> AttentionHead {
        if let b = head.biases.keys.sorted().first { throw error(b, "biases need the factored form (W_Q, W_K, W_V, W_O); a head given as W_QK/W_OV has none") }
        let residual = spec.layout.names
        func circuit(_ name: String) throws -> Matrix {
            // W_QK reads the same in both conventions; the column-vector W_OV (= W_O W_V) is the transpose of ours.
            guard let m = head.matrices[name] else {
                if spec.optionalMatrices.contains(name) { return Matrix(zeros: residual.count, residual.count) }
                throw error(name, "is missing; a head in circuit form needs both W_QK and W_OV")
            }
            let oriented = (anthropic && name == "W_OV") ? m.transposed : m
            let matrix = try oriented.resolve(
                rows: residual, columns: residual, rowAxis: "residual dim", columnAxis: "residual dim",
                file: file, location: "\(location).\(name)")
            if let bound = spec.limits.dHead {
                let r = matrix.rank()
                if r > bound {
                    throw error(name, "has rank \(r), but a head of this exercise has d_head <= \(bound), so its \(name) can have rank at most \(bound)")
                }
            }
            return matrix
        }
        return AttentionHead(wQK: try circuit("W_QK"), wOV: try circuit("W_OV"))
    }
}
