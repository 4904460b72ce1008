import Numerics
import Model
import Formats
import Exercises
import Grading

/// The TransformerLens form of a template (`init ID --format transformerlens`): a short Python script that
/// builds the exercise's model with its config, the fixed `W_E`, `W_pos`, `W_U`, `b_U` and zero heads, and
/// saves `model.state_dict()` as `.safetensors` (or `.npz` without the `safetensors` package), both of which
/// `check` reads.
///
/// With TransformerLens 3.x it builds a `HookedTransformer`: `d_model` = the residual dims, `d_head` = the
/// template's width, `n_ctx`, `d_vocab` = the input tokens (BOS last), `d_vocab_out` = the outputs,
/// `attn_only=True`, `normalization_type=None`, `attn_scale` = 1 / the exercise's scale (TransformerLens divides
/// the scores by it; left at its `sqrt(d_head)` default when the exercise says `1/sqrt(d_head)`),
/// `positional_embedding_type` `shortformer` or `standard` (an all-zero `W_pos` where the exercise has no
/// positions), `attention_dir` `causal` or `bidirectional`. With 4.x, which has no `HookedTransformer`, it
/// builds `TransformerBridge.boot_native` with the same config at the default `attn_scale`, and `set_head`
/// folds the exercise's scale into `q.weight`; `save` then records `n_heads` and `attn_scale` in the metadata.
/// Shortformer exercises need 3.x.
extension SubmissionTemplate {
    /// The script's file name: the exercise id with `/` as `-`, `.py`.
    public var transformerLensScriptName: String { folderName + ".py" }

    /// The script's text.
    public var transformerLensScript: String {
        let scale: String
        let scaleNote: String
        if spec.attentionScaleFollowsDHead {
            scale = "1 / math.sqrt(D_HEAD)"
            scaleNote = "# attn_scale left at TransformerLens's default sqrt(d_head): the exercise scales by 1/sqrt(d_head)"
        } else {
            scale = NumberText.exact(spec.attentionScale)
            scaleNote = "attn_scale=1 / SCALE,  # TransformerLens divides the scores by attn_scale"
        }
        let example = residual.first(where: { $0.hasPrefix("tok:") }) ?? residual[0]
        let embeddingNote =
            spec.studentEmbeddings
            ? "# Exploration mode: W_E, W_pos, W_U, b_U are a starting point you may change."
            : "# The exercise owns W_E, W_pos, W_U and b_U: keep them as set here. Heads left at zero are harmless."
        return #"""
            # TransformerLens starting point for \#(spec.id): \#(spec.title)
            # Written by `circuit-grader init \#(spec.id) --format transformerlens`; works with TransformerLens 3.x
            # (HookedTransformer) and 4.x (TransformerBridge). Fill in set_heads(), run `python \#(transformerLensScriptName)`,
            # then: circuit-grader check \#(folderName).safetensors
            \#(embeddingNote)
            import math

            import numpy as np
            import torch

            EXERCISE = \#(pythonString(spec.id))
            RESIDUAL = \#(pythonList(residual.map(pythonString)))  # d_model = \#(residual.count): rows of W_Q, W_K, W_V, columns of W_O
            TOKENS = \#(pythonList(spec.inputTokens.map(pythonString)))  # rows of W_E, in token-id order
            OUTPUTS = \#(pythonList(spec.outputs.map(pythonString)))  # columns of W_U
            N_LAYERS, N_HEADS, D_HEAD = \#(spec.limits.layers), \#(spec.limits.headsPerLayer), \#(dHead)
            N_CTX = \#(spec.nCtx)  # positions, BOS included
            SCALE = \#(scale)  # the exercise's attention scale: scores = q k^T * SCALE
            POSITIONS = \#(pythonString(spec.positional == .shortformer ? "shortformer" : "standard"))
            ATTENTION = \#(pythonString(spec.causal ? "causal" : "bidirectional"))
            W_E = \#(pythonMatrix(spec.wE))
            W_pos = \#(spec.wPos.map(pythonMatrix) ?? "None")  # None: the exercise has no positions, W_pos stays zero
            W_U = \#(pythonMatrix(spec.wU))
            b_U = \#(pythonList(spec.bU.map(NumberText.exact)))


            def dim(name):
                """The index of residual dim `name`, e.g. dim(\#(pythonString(example)))."""
                return RESIDUAL.index(name)


            def build_model(dtype=torch.float32):
                """The exercise's model with zero heads; float32 is TransformerLens's default, float64 is exact."""
                try:
                    from transformer_lens import HookedTransformer, HookedTransformerConfig
                except ImportError:  # TransformerLens 4.x
                    return build_bridge(dtype)
                cfg = HookedTransformerConfig(
                    n_layers=N_LAYERS, n_heads=N_HEADS, d_model=\#(residual.count), d_head=D_HEAD,
                    n_ctx=N_CTX, d_vocab=\#(spec.inputTokens.count), d_vocab_out=\#(spec.outputs.count),
                    attn_only=True, normalization_type=None, act_fn="relu",
                    \#(scaleNote)
                    positional_embedding_type=POSITIONS, attention_dir=ATTENTION,
                    dtype=dtype,
                )
                model = HookedTransformer(cfg)
                with torch.no_grad():
                    for p in model.parameters():
                        p.zero_()
                    model.embed.W_E.copy_(torch.tensor(W_E, dtype=dtype))
                    if W_pos is not None:
                        model.pos_embed.W_pos.copy_(torch.tensor(W_pos, dtype=dtype))
                    model.unembed.W_U.copy_(torch.tensor(W_U, dtype=dtype))
                    model.unembed.b_U.copy_(torch.tensor(b_U, dtype=dtype))
                return model


            def build_bridge(dtype):
                """TransformerLens 4.x: TransformerBridge.boot_native, scores divided by its default sqrt(d_head)."""
                from transformer_lens import TransformerBridge, TransformerBridgeConfig

                if POSITIONS == "shortformer":
                    raise SystemExit(EXERCISE + " needs shortformer positions, which TransformerLens 4.x lacks: use 3.x")
                cfg = TransformerBridgeConfig(
                    n_layers=N_LAYERS, n_heads=N_HEADS, d_model=\#(residual.count), d_head=D_HEAD,
                    n_ctx=N_CTX, d_vocab=\#(spec.inputTokens.count), d_vocab_out=\#(spec.outputs.count),
                    attn_only=True, normalization_type=None, act_fn="relu", attention_dir=ATTENTION, dtype=dtype,
                )
                model = TransformerBridge.boot_native(cfg)
                sd = model.state_dict()
                with torch.no_grad():
                    for t in sd.values():
                        t.zero_()
                    sd["embed.weight"].copy_(torch.tensor(W_E, dtype=dtype))
                    if W_pos is not None:
                        sd["pos_embed.weight"].copy_(torch.tensor(W_pos, dtype=dtype))
                    sd["unembed.weight"].copy_(torch.tensor(W_U, dtype=dtype).T)
                    sd["unembed.bias"].copy_(torch.tensor(b_U, dtype=dtype))
                return model


            def is_bridge(model):
                return "blocks.0.attn.q.weight" in model.state_dict()


            def set_head(model, layer, head, W_Q=None, W_K=None, W_V=None, W_O=None):
                """Head `head` of `layer`: W_Q, W_K, W_V [d_model, k], W_O [k, d_model] with k <= D_HEAD (zero-padded)."""
                given = {"W_Q": W_Q, "W_K": W_K, "W_V": W_V, "W_O": W_O}
                with torch.no_grad():
                    if not is_bridge(model):
                        attn = model.blocks[layer].attn
                        for name, m in given.items():
                            if m is not None:
                                m = np.asarray(m, dtype=float)
                                target = getattr(attn, name)[head]
                                target.zero_()
                                target[: m.shape[0], : m.shape[1]] = torch.tensor(m, dtype=target.dtype)
                        return
                    # 4.x: q/k/v.weight [n_heads*d_head, d_model], o.weight [d_model, n_heads*d_head] (out x in).
                    # The bridge divides the scores by sqrt(d_head): the exercise's SCALE is folded into q.weight.
                    sd = model.state_dict()
                    fold = math.sqrt(D_HEAD) * SCALE
                    for name, m in given.items():
                        if m is None:
                            continue
                        m = np.asarray(m, dtype=float)
                        p = name[-1].lower()
                        weight = sd[f"blocks.{layer}.attn.{p}.weight"]
                        k = m.shape[0] if p == "o" else m.shape[1]
                        rows = slice(head * D_HEAD, head * D_HEAD + D_HEAD)
                        block = torch.zeros(D_HEAD, \#(residual.count), dtype=weight.dtype)
                        block[:k, :] = torch.tensor(m if p == "o" else m.T, dtype=weight.dtype)
                        if p == "o":
                            weight[:, rows] = block.T
                        else:
                            weight[rows, :] = block * (fold if p == "q" else 1)


            def set_heads(model):
                """Your heads, e.g. set_head(model, 0, 0, W_Q=..., W_K=..., W_V=..., W_O=...) with numpy arrays."""
                W_Q = np.zeros((\#(residual.count), D_HEAD))
                # e.g. W_Q[dim(\#(pythonString(example))), 0] = 1.0
                set_head(model, 0, 0, W_Q=W_Q)


            def save(model, stem=\#(pythonString(folderName))):
                state = {k: v.detach().cpu().clone().contiguous() for k, v in model.state_dict().items()}
                metadata = {"exercise": EXERCISE}
                if is_bridge(model):
                    metadata.update(n_heads=str(N_HEADS), attn_scale=repr(math.sqrt(D_HEAD)))
                try:
                    from safetensors.torch import save_file
                except ImportError:
                    extra = {"cfg." + k: np.array(float(v)) for k, v in metadata.items() if k != "exercise"}
                    np.savez(stem + ".npz", **{k: v.numpy() for k, v in state.items()}, **extra)
                    return stem + ".npz"
                save_file(state, stem + ".safetensors", metadata=metadata)
                return stem + ".safetensors"


            if __name__ == "__main__":
                model = build_model()
                set_heads(model)
                path = save(model)
                print("wrote", path, "- grade it with: circuit-grader check", path, "--exercise", EXERCISE)

            """#
    }

    private func pythonString(_ s: String) -> String { JSONWriter.write(.string(s)).trimmingCharacters(in: .whitespacesAndNewlines) }

    private func pythonList(_ items: [String]) -> String { "[" + items.joined(separator: ", ") + "]" }

    private func pythonMatrix(_ m: Matrix) -> String {
        pythonList((0..<m.rows).map { r in pythonList((0..<m.columns).map { NumberText.exact(m[r, $0]) }) })
    }
}
