import Numerics
import Model

/// The one place in a submission a named matrix or bias goes, whatever spelling named it.
///
/// `L0H0.W_Q`, `l0h0.W_Q` and `L00H00.W_Q` are the same slot, as are `blocks.0.attn.W_Q` and
/// `blocks.00.attn.W_Q` (a layer-wide tensor over every head), and `W_E` and `embed.W_E`. Two sources for one
/// slot are an error naming both, never "the later one wins".
package struct MatrixSlot: Hashable, CustomStringConvertible {
    /// What the slot belongs to.
    package enum Owner: Hashable {
        /// One head: `L{layer}H{head}`.
        case head(layer: Int, head: Int)
        /// A whole layer: `b_O`, or a state-dict tensor over all of the layer's heads.
        case layer(Int)
        /// The embedding side: `W_E`, `W_pos`, `W_U`, `b_U`.
        case model
    }

    package let owner: Owner
    /// `W_Q`, `b_O`, `W_E`…
    package let name: String

    package var description: String {
        switch owner {
        case .head(let l, let h): "L\(l)H\(h).\(name)"
        case .layer(let l): "L\(l).\(name)"
        case .model: name
        }
    }

    /// The slot of a per-head file stem (`L0H0.W_Q`, `L0.b_O`, `W_E`, `b_U`) or a state-dict name
    /// (`blocks.0.attn.W_Q`, `embed.W_E`, `unembed.b_U`); nil when the name is neither.
    package init?(_ name: String) {
        let model = Submission.embeddingNames + ["b_U"]
        if model.contains(name) {
            self.init(owner: .model, name: name)
            return
        }
        if let short = StateDict.embeddingKeys[name] ?? (name == "unembed.b_U" ? "b_U" : nil) {
            self.init(owner: .model, name: short)
            return
        }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 4, parts[0] == "blocks", parts[2] == "attn", let l = Int(parts[1]), l >= 0 {
            self.init(owner: .layer(l), name: parts[3])
        } else if parts.count == 2, let ref = HeadRef(parts[0]) {
            self.init(owner: .head(layer: ref.layer, head: ref.head), name: parts[1])
        } else if parts.count == 2, parts[0].uppercased().hasPrefix("L"), let l = Int(parts[0].dropFirst()), l >= 0 {
            self.init(owner: .layer(l), name: parts[1])
        } else {
            return nil
        }
    }

    private init(owner: Owner, name: String) {
        self.owner = owner
        self.name = name
    }

    /// Throws when two of `names` (tensor names of one state dict) fill the same slot; the error names both.
    package static func requireDistinct(_ names: [String], file: String) throws {
        var seen: [MatrixSlot: String] = [:]
        for name in names {
            guard let slot = MatrixSlot(name) else { continue }
            if let first = seen[slot] {
                throw GraderError(file: file, location: name, "is also given as \(first) (both are \(slot)); keep one")
            }
            seen[slot] = name
        }
    }
}
