/// How every number reaches text: the one policy for reports, messages and JSON.
///
/// `exact` is the shortest text that reads back as the same `Double` (integers without a fraction);
/// `rounded` is what people read: three decimals, with −0 shown as 0.
public enum NumberText {
    /// The shortest text that parses back to `x`; integers below 10¹⁵ are printed without `.0`.
    public static func exact(_ x: Double) -> String {
        guard x.isFinite else { return "\(x)" }
        if x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
        return "\(x)"
    }

    /// `x` rounded to three decimals, as reports and messages show margins, masses and scores.
    public static func rounded(_ x: Double) -> String {
        guard x.isFinite else { return "\(x)" }
        let r = (x * 1000).rounded() / 1000
        return exact(r == 0 ? 0 : r)
    }
}
