import Numerics
import Model

/// Maps TransformerLens state-dict names onto a `Submission`, for every format that carries named
/// tensors (JSON, `.npz`, `.safetensors`).
///
/// `blocks.{l}.attn.W_Q|W_K|W_V` `[n_heads, d_model, d_head]`, `W_O` `[n_heads, d_head, d_model]`,
/// `b_Q|b_K|b_V` `[n_heads, d_head]`, `b_O` `[d_model]`; `embed.W_E`, `pos_embed.W_pos`, `unembed.W_U`, `unembed.b_U`.
/// The buffers `attn.mask` and `attn.IGNORE` are not weights and are skipped; TransformerLens 4.x names
/// are read too (see `TransformerLensNames`).
public enum StateDict {
    package static let embeddingKeys = ["embed.W_E": "W_E", "pos_embed.W_pos": "W_pos", "unembed.W_U": "W_U"]

    /// Whether `key` looks like a TransformerLens state-dict name.
    public static func isStateDictName(_ key: String) -> Bool {
        key.hasPrefix("blocks.") || key.hasPrefix("embed.") || key.hasPrefix("pos_embed.") || key.hasPrefix("unembed.")
            || key == TransformerLensNames.headCountKey || key == TransformerLensNames.attentionScaleKey
    }

    /// The submission the named tensors describe.
    public static func submission(
        _ tensors: [(name: String, tensor: Tensor)], file: String, exercise: String?,
        convention: Submission.Convention, metadata: [String: String] = [:]
    ) throws -> Submission {
        try MatrixSlot.requireDistinct(tensors.map(\.name), file: file)
        var s = Submission(file: file)
        s.exercise = exercise
        s.convention = convention
        let hooked = try TransformerLensNames.hookedForm(tensors, config: try .init(metadata: metadata, file: file), file: file)
        let tensors = hooked.tensors
        s.headCountUnknown = hooked.headCountUnknown
        s.attentionDivisor = hooked.attentionDivisor
        var perLayer: [Int: [(String, Tensor)]] = [:]
        for (name, tensor) in tensors {
            if let short = embeddingKeys[name] {
                s.embeddings[short] = .dense(try matrix(tensor, file: file, name: name), rowLabels: nil, columnLabels: nil)
                s.precision[short] = tensor.precision
            } else if name == "unembed.b_U" {
                s.bU = .dense(try vector(tensor, file: file, name: name))
                s.precision["b_U"] = tensor.precision
            } else if let (layer, parameter) = blockParameter(name) {
                guard layer < InputLimits.maxLayers else {
                    throw GraderError(file: file, location: name, "layer \(layer) is beyond the \(InputLimits.maxLayers) layers accepted")
                }
                perLayer[layer, default: []].append((parameter, tensor))
            } else {
                throw GraderError(file: file, location: name, unknownNameMessage(name))
            }
        }
        let count = (perLayer.keys.max() ?? -1) + 1
        for l in 0..<count {
            guard let parameters = perLayer[l] else {
                throw GraderError(
                    file: file, location: "blocks.\(l)",
                    "layer \(l) is missing (layers \(perLayer.keys.sorted().map(String.init).joined(separator: ", ")) are present)")
            }
            s.layers.append(try layer(parameters, index: l, file: file))
        }
        return s
    }

    private static func blockParameter(_ name: String) -> (Int, String)? {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "blocks", let l = Int(parts[1]), l >= 0, parts[2] == "attn" else { return nil }
        let p = String(parts[3])
        return (Submission.factoredNames + Submission.biasNames + ["b_O"]).contains(p) ? (l, p) : nil
    }

    private static func unknownNameMessage(_ name: String) -> String {
        if name.contains(".ln") || name.contains("ln_final") {
            return "LayerNorm parameters are not part of the graded model (attention-only, no LayerNorm); export with normalization_type=None"
        }
        if name.contains(".mlp.") { return "MLP parameters are not part of the graded model (attention-only)" }
        return
            "unknown state-dict name (expected TransformerLens 3.x blocks.{l}.attn.W_Q/W_K/W_V/W_O/b_Q/b_K/b_V/b_O, embed.W_E, pos_embed.W_pos, unembed.W_U, unembed.b_U, or 4.x blocks.{l}.attn.q/k/v/o.weight/bias, embed.weight, pos_embed.weight, unembed.weight/bias)"
    }

    private static func layer(_ parameters: [(String, Tensor)], index l: Int, file: String) throws -> Submission.Layer {
        var layer = Submission.Layer()
        var nHeads: Int? = nil
        for (p, tensor) in parameters {
            let name = "blocks.\(l).attn.\(p)"
            if p == "b_O" {
                layer.bO = .dense(try vector(tensor, file: file, name: name))
                continue
            }
            let rank = p.hasPrefix("W") ? 3 : 2
            guard tensor.shape.count == rank else {
                throw GraderError(
                    file: file, location: name,
                    "expected \(rank) dimensions \(p.hasPrefix("W") ? "[n_heads, d_model, d_head]" : "[n_heads, d_head]"), found shape \(shapeText(tensor.shape))"
                )
            }
            if let n = nHeads, n != tensor.shape[0] {
                throw GraderError(file: file, location: name, "has \(plural(tensor.shape[0], "head")) but other tensors of layer \(l) have \(n)")
            }
            nHeads = tensor.shape[0]
            guard tensor.shape[0] <= InputLimits.maxHeads else { throw GraderError(file: file, location: name, "more than \(InputLimits.maxHeads) heads") }
            while layer.heads.count < tensor.shape[0] { layer.heads.append(Submission.Head()) }
            for h in 0..<tensor.shape[0] {
                let slice = tensor.slice(h)
                if rank == 3 {
                    layer.heads[h].matrices[p] = .dense(try matrix(slice, file: file, name: "\(name)[\(h)]"), rowLabels: nil, columnLabels: nil)
                } else {
                    layer.heads[h].biases[p] = .dense(slice.values)
                }
            }
        }
        return layer
    }

    private static func matrix(_ t: Tensor, file: String, name: String) throws -> Matrix {
        guard let m = t.matrix else { throw GraderError(file: file, location: name, "expected 2 dimensions, found shape \(shapeText(t.shape))") }
        for (i, x) in m.values.enumerated() { try checkWeight(x, file: file, location: "\(name)[\(i / max(m.columns, 1))][\(i % max(m.columns, 1))]") }
        return m
    }

    private static func vector(_ t: Tensor, file: String, name: String) throws -> [Double] {
        guard t.shape.count == 1 else { throw GraderError(file: file, location: name, "expected 1 dimension, found shape \(shapeText(t.shape))") }
        for (i, x) in t.values.enumerated() { try checkWeight(x, file: file, location: "\(name)[\(i)]") }
        return t.values
    }
}
