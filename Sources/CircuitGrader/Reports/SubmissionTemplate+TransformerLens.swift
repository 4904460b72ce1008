/// The TransformerLens form of a template (`init ID --format transformerlens`): a short Python script that
/// builds the exercise's `HookedTransformer` (TransformerLens 3.x) with its config, the fixed `W_E`, `W_pos`,
/// `W_U`, `b_U` and zero heads, and saves `model.state_dict()` as `.safetensors` (or `.npz` without the
/// `safetensors` package), both of which `check` reads.
///
/// Config: `d_model` = the residual dims, `d_head` = the template's width, `n_ctx`, `d_vocab` = the input tokens
/// (BOS last), `d_vocab_out` = the outputs, `attn_only=True`, `normalization_type=None`, `attn_scale` =
/// 1 / the exercise's scale (TransformerLens divides the scores by it; left at its `sqrt(d_head)` default when
/// the exercise says `1/sqrt(d_head)`), `positional_embedding_type` `shortformer` or `standard` (an all-zero
/// `W_pos` where the exercise has no positions), `attention_dir` `causal` or `bidirectional`.
extension SubmissionTemplate {
    /// The script's file name: the exercise id with `/` as `-`, `.py`.
    public var transformerLensScriptName: String { folderName + ".py" }

    /// The script's text.
    public var transformerLensScript: String {
        let out = folderName
        let scale: String
        if spec.attentionScaleFollowsDHead {
            scale = "# attn_scale left at TransformerLens's default sqrt(d_head): the exercise scales by 1/sqrt(d_head)"
        } else {
            scale =
                "attn_scale=\(JSONWriter.number(1 / spec.attentionScale)),  # scores are divided by this: 1 / the exercise's scale \(JSONWriter.number(spec.attentionScale))"
        }
        let positional = spec.positional == .shortformer ? "shortformer" : "standard"
        let example = residual.first(where: { $0.hasPrefix("tok:") }) ?? residual[0]
        var lines = [
            "# TransformerLens starting point for \(spec.id): \(spec.title)",
            "# Written by `circuit-grader init \(spec.id) --format transformerlens` for TransformerLens 3.x (HookedTransformer).",
            "# Fill in the heads below, run `python \(transformerLensScriptName)`, then: circuit-grader check \(out).safetensors",
            "# The exercise owns W_E, W_pos, W_U and b_U: keep them as set here. Heads left at zero are harmless.",
            "import numpy as np",
            "import torch",
            "",
            "EXERCISE = \(pythonString(spec.id))",
            "RESIDUAL = \(pythonList(residual.map(pythonString)))  # d_model = \(residual.count): rows of W_Q, W_K, W_V, columns of W_O",
            "TOKENS = \(pythonList(spec.inputTokens.map(pythonString)))  # rows of W_E, in token-id order",
            "OUTPUTS = \(pythonList(spec.outputs.map(pythonString)))  # columns of W_U",
            "N_CTX = \(spec.nCtx)  # positions, BOS included",
            "W_E = \(pythonMatrix(spec.wE))",
            "W_pos = \(spec.wPos.map(pythonMatrix) ?? "None")  # None: the exercise has no positions, W_pos stays zero",
            "W_U = \(pythonMatrix(spec.wU))",
            "b_U = \(pythonList(spec.bU.map(JSONWriter.number)))",
            "",
            "",
            "def dim(name):",
            "    \"\"\"The index of residual dim `name`, e.g. dim(\(pythonString(example))).\"\"\"",
            "    return RESIDUAL.index(name)",
            "",
            "",
            "def build_model(dtype=torch.float32):",
            "    \"\"\"The exercise's model with zero heads; float32 is TransformerLens's default, float64 is exact.\"\"\"",
            "    from transformer_lens import HookedTransformer, HookedTransformerConfig",
            "",
            "    cfg = HookedTransformerConfig(",
            "        n_layers=\(spec.limits.layers), n_heads=\(spec.limits.headsPerLayer), d_model=\(residual.count), d_head=\(dHead),",
            "        n_ctx=N_CTX, d_vocab=\(spec.inputTokens.count), d_vocab_out=\(spec.outputs.count),",
            "        attn_only=True, normalization_type=None, act_fn=\"relu\",",
            "        \(scale)",
            "        positional_embedding_type=\(pythonString(positional)), attention_dir=\(pythonString(spec.causal ? "causal" : "bidirectional")),",
            "        dtype=dtype,",
            "    )",
            "    model = HookedTransformer(cfg)",
            "    with torch.no_grad():",
            "        for p in model.parameters():",
            "            p.zero_()",
            "        model.embed.W_E.copy_(torch.tensor(W_E, dtype=dtype))",
            "        if W_pos is not None:",
            "            model.pos_embed.W_pos.copy_(torch.tensor(W_pos, dtype=dtype))",
            "        model.unembed.W_U.copy_(torch.tensor(W_U, dtype=dtype))",
            "        model.unembed.b_U.copy_(torch.tensor(b_U, dtype=dtype))",
            "    return model",
            "",
            "",
            "def set_heads(model):",
            "    \"\"\"Your heads: blocks[l].attn.W_Q[h] is [d_model, d_head] (rows: RESIDUAL), W_O[h] is [d_head, d_model].\"\"\"",
            "    with torch.no_grad():",
            "        attn = model.blocks[0].attn",
            "        # e.g. attn.W_Q[0, dim(\(pythonString(example))), 0] = 1.0",
            "        pass",
            "",
            "",
            "def save(model, stem=\(pythonString(out))):",
            "    state = {k: v.detach().cpu().clone().contiguous() for k, v in model.state_dict().items()}",
            "    try:",
            "        from safetensors.torch import save_file",
            "    except ImportError:",
            "        np.savez(stem + \".npz\", **{k: v.numpy() for k, v in state.items()})",
            "        return stem + \".npz\"",
            "    save_file(state, stem + \".safetensors\", metadata={\"exercise\": EXERCISE})",
            "    return stem + \".safetensors\"",
            "",
            "",
            "if __name__ == \"__main__\":",
            "    model = build_model()",
            "    set_heads(model)",
            "    path = save(model)",
            "    print(\"wrote\", path, \"- grade it with: circuit-grader check\", path, \"--exercise\", EXERCISE)",
        ]
        if spec.studentEmbeddings {
            lines.insert("# Exploration mode: W_E, W_pos, W_U, b_U are a starting point you may change.", at: 4)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func pythonString(_ s: String) -> String { JSONWriter.write(.string(s)).trimmingCharacters(in: .whitespacesAndNewlines) }

    private func pythonList(_ items: [String]) -> String { "[" + items.joined(separator: ", ") + "]" }

    private func pythonMatrix(_ m: Matrix) -> String {
        pythonList((0..<m.rows).map { r in pythonList((0..<m.columns).map { JSONWriter.number(m[r, $0]) }) })
    }
}
