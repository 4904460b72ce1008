import Numerics

/// A head by layer and index, written `L0H1` in specs and reports.
public struct HeadRef: Hashable, Sendable, CustomStringConvertible {
    public var layer: Int
    public var head: Int

    public init(layer: Int, head: Int) {
        self.layer = layer
        self.head = head
    }

    /// Parses `L{layer}H{head}`.
    public init?(_ text: String) {
        let parts = text.uppercased().split(separator: "H")
        guard parts.count == 2, parts[0].hasPrefix("L"), let l = Int(parts[0].dropFirst()), let h = Int(parts[1]),
            l >= 0, h >= 0
        else { return nil }
        self.init(layer: l, head: h)
    }

    public var description: String { "L\(layer)H\(head)" }
}
