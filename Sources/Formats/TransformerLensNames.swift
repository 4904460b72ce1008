import Numerics
import Model

/// The two generations of TransformerLens state-dict names, told apart by the names alone (never by shapes).
///
/// - 3.x `HookedTransformer`: `embed.W_E` `[d_vocab, d_model]`, `pos_embed.W_pos` `[n_ctx, d_model]`,
///   `blocks.{l}.attn.W_Q|W_K|W_V` `[n_heads, d_model, d_head]`, `W_O` `[n_heads, d_head, d_model]`,
///   `b_Q|b_K|b_V` `[n_heads, d_head]`, `b_O` `[d_model]`, `unembed.W_U` `[d_model, d_vocab_out]`, `unembed.b_U`;
///   plus the buffers `attn.mask` (bool) and `attn.IGNORE` (a float −inf), which are not weights.
/// - 4.x `TransformerBridge`: `embed.weight` `[d_vocab, d_model]`, `pos_embed.weight` `[n_ctx, d_model]`,
///   `blocks.{l}.attn.q|k|v.weight` `[n_heads·d_head, d_model]` and `o.weight` `[d_model, n_heads·d_head]`
///   (PyTorch `Linear`: out × in), `q|k|v.bias` `[n_heads·d_head]`, `o.bias` `[d_model]`,
///   `unembed.weight` `[d_vocab_out, d_model]`, `unembed.bias` `[d_vocab_out]`.
///
/// A 4.x file does not say how its `n_heads·d_head` rows split into heads: the count comes from the entry
/// `cfg.n_heads` (any format) or safetensors metadata `n_heads`; without either every layer is read as one
/// head and the submission says the count is unknown, which `ModelBuilder` accepts only where the exercise
/// allows one head per layer.
///
/// A 4.x file is graded as `TransformerBridge` runs it: its native attention divides the scores by
/// `attn_scale` (`cfg.attn_scale` entry or metadata `attn_scale`; by default `sqrt(d_head)`, and never 1 with
/// `d_head > 1`), so `ModelBuilder` folds `1 / (attn_scale · exercise scale)` into `W_Q` and `b_Q`.
public enum TransformerLensNames {
    /// The entry that gives a 4.x file's head count, e.g. `np.savez(..., **{"cfg.n_heads": np.array(2)})`.
    public static let headCountKey = "cfg.n_heads"
    /// The entry that gives a 4.x file's `attn_scale` (the divisor of its attention scores).
    public static let attentionScaleKey = "cfg.attn_scale"

    /// Whether `name` is a buffer TransformerLens saves with the weights (`attn.mask`, `attn.IGNORE`); such
    /// entries are skipped by name before any check of their values (IGNORE is −inf, mask is boolean).
    public static func isIgnoredBuffer(_ name: String?) -> Bool {
        guard let name else { return false }
        return name.hasSuffix(".attn.mask") || name.hasSuffix(".attn.IGNORE")
    }

    /// The 4.x name `name` stands for, with the 3.x name it becomes; nil when it is not a 4.x name.
    package static func bridgeParameter(_ name: String) -> BridgeParameter? {
        switch name {
        case "embed.weight": return .embedding("embed.W_E", transpose: false)
        case "pos_embed.weight": return .embedding("pos_embed.W_pos", transpose: false)
        case "unembed.weight": return .embedding("unembed.W_U", transpose: true)
        case "unembed.bias": return .embedding("unembed.b_U", transpose: false)
        default: break
        }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "blocks", let l = Int(parts[1]), l >= 0, parts[2] == "attn",
            ["q", "k", "v", "o"].contains(parts[3]), ["weight", "bias"].contains(parts[4])
        else { return nil }
        return .block(layer: l, projection: String(parts[3]), isWeight: parts[4] == "weight")
    }

    /// What a 4.x name holds.
    package enum BridgeParameter {
        /// An embedding-side tensor, renamed (and transposed for `unembed.weight`).
        case embedding(String, transpose: Bool)
        /// `blocks.{layer}.attn.{q,k,v,o}.{weight,bias}`.
        case block(layer: Int, projection: String, isWeight: Bool)
    }

    /// What a file says about its model besides the weights.
    package struct Config {
        /// `n_heads`, when given.
        package var headCount: Int?
        /// The divisor of the attention scores (`attn_scale`), when given.
        package var attentionScale: Double?

        /// The values in safetensors `metadata` (`n_heads`, `attn_scale`), checked.
        package init(metadata: [String: String], file: String) throws {
            if let text = metadata["n_heads"] { headCount = try Self.headCount(Double(text), file: file, location: "__metadata__.n_heads") }
            if let text = metadata["attn_scale"] { attentionScale = try Self.scale(Double(text), file: file, location: "__metadata__.attn_scale") }
        }

        package static func headCount(_ x: Double?, file: String, location: String) throws -> Int {
            guard let x, let n = Int(exactly: x), n >= 1, n <= InputLimits.maxHeads else {
                throw GraderError(file: file, location: location, "expected one whole number from 1 to \(InputLimits.maxHeads) (the model's n_heads)")
            }
            return n
        }

        package static func scale(_ x: Double?, file: String, location: String) throws -> Double {
            guard let x, x.isFinite, x > 0 else {
                throw GraderError(file: file, location: location, "expected one positive number (the model's attn_scale, which divides the scores)")
            }
            return x
        }
    }

    /// `tensors` in 3.x form: ignored buffers and `cfg.*` entries dropped, 4.x names turned into 3.x names and
    /// shapes. `config` (from file metadata) wins over `cfg.n_heads` / `cfg.attn_scale` entries. Returns
    /// whether a 4.x file left its head count unknown, and a 4.x file's attention divisor (nil for 3.x).
    /// Errors name `file` and the tensor.
    package static func hookedForm(
        _ tensors: [(name: String, tensor: Tensor)], config: Config, file: String
    ) throws -> (tensors: [(name: String, tensor: Tensor)], headCountUnknown: Bool, attentionDivisor: Double?) {
        var kept: [(name: String, tensor: Tensor)] = []
        var bridge: [(name: String, tensor: Tensor, parameter: BridgeParameter)] = []
        var entryCount: Int? = nil
        var entryScale: Double? = nil
        for (name, tensor) in tensors {
            if isIgnoredBuffer(name) { continue }
            if name == headCountKey {
                entryCount = try Config.headCount(tensor.values.count == 1 ? tensor.values[0] : nil, file: file, location: name)
            } else if name == attentionScaleKey {
                entryScale = try Config.scale(tensor.values.count == 1 ? tensor.values[0] : nil, file: file, location: name)
            } else if let parameter = bridgeParameter(name) {
                bridge.append((name, tensor, parameter))
            } else {
                kept.append((name, tensor))
            }
        }
        guard !bridge.isEmpty else { return (kept, false, nil) }
        if let hooked = kept.first(where: { StateDict.isStateDictName($0.name) }), let other = bridge.first {
            throw GraderError(
                file: file, location: hooked.name,
                "mixes TransformerLens 3.x names (\(hooked.name)) with 4.x TransformerBridge names (\(other.name)); save one model's state_dict()")
        }
        let nHeads = config.headCount ?? entryCount
        var dHead: Int? = nil
        for (name, tensor, parameter) in bridge {
            switch parameter {
            case .embedding(let hookedName, let transpose):
                if transpose {
                    guard let m = tensor.matrix else {
                        throw GraderError(file: file, location: name, "expected 2 dimensions [d_vocab_out, d_model], found shape \(shapeText(tensor.shape))")
                    }
                    let t = m.transposed
                    kept.append((hookedName, Tensor(shape: [t.rows, t.columns], values: t.values, precision: tensor.precision)))
                } else {
                    kept.append((hookedName, tensor))
                }
            case .block(let l, let projection, let isWeight):
                let split = try headSplit(tensor, name: name, layer: l, projection: projection, isWeight: isWeight, nHeads: nHeads ?? 1, file: file)
                if projection == "q", isWeight, let width = split.tensor.shape.last { dHead = dHead ?? width }
                kept.append(split)
            }
        }
        let divisor = config.attentionScale ?? entryScale ?? Double(dHead ?? 1).squareRoot()
        return (kept, nHeads == nil, divisor)
    }

    /// One 4.x attention tensor split into 3.x per-head form.
    private static func headSplit(
        _ t: Tensor, name: String, layer l: Int, projection p: String, isWeight: Bool, nHeads: Int, file: String
    ) throws -> (name: String, tensor: Tensor) {
        let hooked = "blocks.\(l).attn.\(isWeight ? "W" : "b")_\(p.uppercased())"
        if p == "o" && !isWeight { return (hooked, t) }  // o.bias [d_model] is b_O as it is
        let expected =
            isWeight ? (p == "o" ? "[d_model, n_heads·d_head]" : "[n_heads·d_head, d_model] (PyTorch Linear: out × in)") : "[n_heads·d_head]"
        guard t.shape.count == (isWeight ? 2 : 1) else {
            throw GraderError(
                file: file, location: name, "expected \(isWeight ? 2 : 1) dimension\(isWeight ? "s" : "") \(expected), found shape \(shapeText(t.shape))")
        }
        let width = isWeight ? (p == "o" ? t.shape[1] : t.shape[0]) : t.shape[0]
        guard width % nHeads == 0 else {
            throw GraderError(
                file: file, location: name, "\(width) head-side values do not split into \(plural(nHeads, "head")) (n_heads from \(headCountKey) or metadata)")
        }
        let dHead = width / nHeads
        guard isWeight else { return (hooked, Tensor(shape: [nHeads, dHead], values: t.values, precision: t.precision)) }
        let dModel = p == "o" ? t.shape[0] : t.shape[1]
        var values = [Double](repeating: 0, count: t.values.count)
        // q, k, v: W[h, i, j] = weight[h·d_head + j, i]      -> [n_heads, d_model, d_head]
        // o:       W[h, j, i] = weight[i, h·d_head + j]      -> [n_heads, d_head, d_model]
        for h in 0..<nHeads {
            for j in 0..<dHead {
                for i in 0..<dModel {
                    let row = h * dHead + j
                    if p == "o" {
                        values[(h * dHead + j) * dModel + i] = t.values[i * width + row]
                    } else {
                        values[(h * dModel + i) * dHead + j] = t.values[row * dModel + i]
                    }
                }
            }
        }
        let shape = p == "o" ? [nHeads, dHead, dModel] : [nHeads, dModel, dHead]
        return (hooked, Tensor(shape: shape, values: values, precision: t.precision))
    }
}

extension ElementType {
    /// The machine epsilon of a float type narrower than float64 (float32 2⁻²³, float16 2⁻¹⁰, bfloat16 2⁻⁷);
    /// nil for float64, integers and booleans, which store the values a submission meant exactly.
    package var precision: Double? {
        switch (kind, size) {
        case (.float, 4): 0x1p-23
        case (.float, 2): 0x1p-10
        case (.bfloat16, _): 0x1p-7
        default: nil
        }
    }
}
