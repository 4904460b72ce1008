import Numerics
import Model

/// The size checks a CSV file passes before it is split into lines and cells, in one pass over its bytes.
///
/// Splitting and trimming a 60 MB file of a million rows took a minute and gigabytes before the row limit
/// was reached; counting line breaks and commas first costs one scan and no allocation.
package enum CSVLimits {
    /// Throws unless `text` has at most `InputLimits.maxCSVLines` lines, at most `InputLimits.maxDimension + 1`
    /// cells in any line and `InputLimits.maxCSVCells` cells in all.
    package static func check(_ text: String, file: String, location: String) throws {
        var lines = 1, cells = 0, cellsInLine = 1
        var previous: UInt8 = 0
        func tooLarge(_ what: String) -> GraderError {
            GraderError(file: file, location: location, "the CSV table is larger than \(InputLimits.maxDimension) rows or columns (\(what))")
        }
        for byte in text.utf8 {
            defer { previous = byte }
            if isLineBreak(byte, after: previous) {
                lines += 1
                cellsInLine = 1
                guard lines <= InputLimits.maxCSVLines else { throw tooLarge("more than \(InputLimits.maxCSVLines) lines") }
            } else if byte == UInt8(ascii: ",") {
                cells += 1
                cellsInLine += 1
                guard cellsInLine <= InputLimits.maxDimension + 1 else {
                    throw tooLarge("line \(lines) has more than \(InputLimits.maxDimension + 1) cells")
                }
                guard cells + lines <= InputLimits.maxCSVCells else { throw tooLarge("more than \(InputLimits.maxCSVCells) cells") }
            }
        }
    }

    /// Whether `byte` ends a line as `Character.isNewline` sees it: `\n`, `\v`, `\f`, `\r`, or the last byte of
    /// U+0085 (`C2 85`), U+2028 or U+2029 (`E2 80 A8`, `E2 80 A9`). Counting `\r\n` twice only errs on the safe side.
    private static func isLineBreak(_ byte: UInt8, after previous: UInt8) -> Bool {
        switch byte {
        case 0x0A, 0x0B, 0x0C, 0x0D: true
        case 0x85: previous == 0xC2
        case 0xA8, 0xA9: previous == 0x80
        default: false
        }
    }
}
