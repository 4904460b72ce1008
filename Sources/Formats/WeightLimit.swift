import Numerics
import Model

/// The weight limit, applied once where a submission is built (`SubmissionLoader.load`), to every matrix and
/// bias whatever format it came in: readers may check earlier (JSON does, to name the line), none has to.
extension Submission {
    /// Throws at the first value that is not finite or lies beyond `InputLimits.maxAbsWeight`, naming the file
    /// it came from (for a folder, the matrix's own file), its slot and its index.
    public func checkWeights() throws {
        for (l, layer) in layers.enumerated() {
            for (h, head) in layer.heads.enumerated() {
                for (name, raw) in head.matrices.sorted(by: { $0.key < $1.key }) {
                    try check(raw, slot: "L\(l)H\(h).\(name)", layerSlot: "L\(l).\(name)")
                }
                for (name, vector) in head.biases.sorted(by: { $0.key < $1.key }) {
                    try check(vector, slot: "L\(l)H\(h).\(name)", layerSlot: "L\(l).\(name)")
                }
            }
            if let bO = layer.bO { try check(bO, slot: "L\(l).b_O", layerSlot: "L\(l).b_O") }
        }
        for (name, raw) in embeddings.sorted(by: { $0.key < $1.key }) { try check(raw, slot: name, layerSlot: name) }
        if let bU { try check(bU, slot: "b_U", layerSlot: "b_U") }
    }

    private func source(_ slot: String, _ layerSlot: String) -> String {
        sources[slot] ?? sources[layerSlot] ?? file
    }

    private func check(_ raw: RawMatrix, slot: String, layerSlot: String) throws {
        let file = source(slot, layerSlot)
        switch raw {
        case .dense(let m, _, _):
            for (i, x) in m.values.enumerated() where !Self.withinLimit(x) {
                try checkWeight(x, file: file, location: "\(slot)[\(i / max(m.columns, 1))][\(i % max(m.columns, 1))]")
            }
        case .sparse(let entries):
            for e in entries where !Self.withinLimit(e.value) {
                try checkWeight(e.value, file: file, location: "\(slot).\(e.row).\(e.column)")
            }
        }
    }

    private func check(_ vector: RawVector, slot: String, layerSlot: String) throws {
        let file = source(slot, layerSlot)
        switch vector {
        case .dense(let values):
            for (i, x) in values.enumerated() where !Self.withinLimit(x) { try checkWeight(x, file: file, location: "\(slot)[\(i)]") }
        case .sparse(let entries):
            for (name, x) in entries where !Self.withinLimit(x) { try checkWeight(x, file: file, location: "\(slot).\(name)") }
        }
    }

    /// The test `checkWeight` throws on, without building its message for every value.
    private static func withinLimit(_ x: Double) -> Bool { x.isFinite && abs(x) <= InputLimits.maxAbsWeight }
}
