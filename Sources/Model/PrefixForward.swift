import Numerics

// Prefix-sharing forward pass for a causal model, the public face of ForwardState's `push` and `truncate`.
// Under a causal mask position p's numbers depend only on tokens 0...p, so when sequences are enumerated depth
// first a new token costs one position's work: its row in every layer, attending to the cached keys and values.
// `logits(at: p)` is bit for bit row p of `forward(tokens).logits`: both run the same steps (ForwardState.swift).

/// A causal forward pass that extends a cached prefix one token at a time.
///
/// Shapes: the cache holds, for positions `0..<count`, every layer's residual row (`[dModel]`), every head's
/// query, key and value rows (`[dHead]`, `[dHead]`, `[dValue]`) and the logits (`[nOutputs]`). `push` computes
/// position `count`; `truncate(to:)` forgets later positions, so a depth-first walk pushes a token when it goes
/// down and truncates when it comes back up. Not thread-safe: give each thread its own.
public final class PrefixForward {
    private let state: ForwardState

    /// A pass over `model` for sequences of up to `capacity` tokens (BOS included); the model must be causal.
    public init(model: Transformer, capacity: Int) {
        precondition(model.causal, "prefix sharing needs a causal mask")
        precondition(capacity >= 0 && capacity <= model.nCtx, "capacity \(capacity) is outside 0...n_ctx (\(model.nCtx))")
        state = ForwardState(PackedModel(model), capacity: capacity, keepsTrace: false)
    }

    /// Positions the cache can hold.
    public var capacity: Int { state.capacity }

    /// Positions computed so far.
    public var count: Int { state.count }

    /// Number of output classes (columns of the logits).
    public var nOutputs: Int { state.model.nOutputs }

    /// Forgets positions `n...`; later pushes recompute them.
    public func truncate(to n: Int) { state.truncate(to: n) }

    /// Computes position `count` for `token` (a row of `W_E`) and appends it.
    public func push(_ token: Int) {
        precondition((0..<state.model.dVocab).contains(token), "Token index \(token) out of range 0..<\(state.model.dVocab)")
        state.push(token)
    }

    /// The logits of cached position `p`, `[nOutputs]`.
    public func logits(at p: Int) -> ArraySlice<Double> { state.logits(at: p) }
}
