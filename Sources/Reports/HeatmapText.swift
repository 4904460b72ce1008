import Foundation
import Numerics
import Model
import Formats
import Exercises
import Grading

/// An attention pattern `[T, T]` drawn in the terminal: query positions as rows, key positions as columns,
/// both labelled with position and token; each weight shaded with one of ` ░▒▓█` and, when the table fits,
/// followed by its value to two decimals. Masked entries (keys after the query under a causal mask) show `·`.
public enum HeatmapText {
    /// Shades from weight 0 to weight 1.
    public static let shades: [Character] = [" ", "░", "▒", "▓", "█"]
    /// Above this many key positions only the shades are drawn (two characters a cell), no numbers.
    public static let maxColumnsWithNumbers = 16

    /// The shade for a weight in [0, 1] (values outside are clamped).
    public static func shade(_ weight: Double) -> Character {
        let level = Int((min(max(weight, 0), 1) * Double(shades.count - 1)).rounded())
        return shades[level]
    }

    /// The heatmap of `pattern` (row = query position), labelled by `positions` and `tokens` (one each per
    /// position); `causal` marks keys after the query as masked. ANSI colour when `colour`.
    public static func render(_ pattern: Matrix, positions: [String], tokens: [String], causal: Bool, colour: Bool) -> String {
        let numbers = pattern.columns <= maxColumnsWithNumbers
        let cells = (0..<pattern.rows).map { q in
            (0..<pattern.columns).map { k in
                causal && k > q ? TextTable.Cell(text: "·") : cell(pattern[q, k], numbers: numbers)
            }
        }
        let rowLabels = zip(positions, tokens).map { $0 == $1 ? $0 : "\($0) \($1)" }
        let tokenLine = zip(positions, tokens).map { $0 == $1 ? "" : $1 }
        let table = TextTable(header: [positions, tokenLine], rowLabels: rowLabels, cells: cells, corner: ["query \\ key"])
        return table.render(colour: colour)
    }

    /// One weight as a cell: its shade (doubled when there is no number) and, with `numbers`, the value.
    package static func cell(_ weight: Double, numbers: Bool) -> TextTable.Cell {
        let s = shade(weight)
        let text = numbers ? "\(s)" + String(format: "%.2f", weight) : String(repeating: s, count: 2)
        return TextTable.Cell(text: text, colour: colourCode(weight))
    }

    /// A 256-colour foreground from dim grey (0) to bright cyan (1).
    package static func colourCode(_ weight: Double) -> String {
        let ramp = [240, 24, 31, 38, 45, 51]
        let i = Int((min(max(weight, 0), 1) * Double(ramp.count - 1)).rounded())
        return "38;5;\(ramp[i])"
    }
}
