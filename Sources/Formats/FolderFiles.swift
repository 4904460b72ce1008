import Foundation
import Numerics
import Model

/// Listing a submission folder, within `InputLimits.maxFolderEntries` names.
package enum FolderListing {
    /// The names in `folder`, sorted.
    package static func names(in folder: String) throws -> [String] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            throw GraderError(file: folder, "cannot list the folder: \(error.localizedDescription)")
        }
        guard names.count <= InputLimits.maxFolderEntries else {
            throw GraderError(file: folder, "the folder holds \(names.count) entries; at most \(InputLimits.maxFolderEntries) are read")
        }
        return names.sorted()
    }
}

/// Which file of a folder filled each slot, so that two files for one matrix are an error naming both.
package struct SlotSources {
    private var fileBySlot: [String: String] = [:]

    /// Records that file `name` gives `slot`; throws when another file already did.
    package mutating func claim(_ name: String, for slot: String, in folder: String) throws {
        if let first = fileBySlot[slot] {
            throw GraderError(file: folder, "\(first) and \(name) both hold \(slot); keep one")
        }
        fileBySlot[slot] = name
    }

    /// Records the matrix file `name` (its name without extension `stem`) and where it came from in `s`.
    /// Names that fill no slot are left to the loader, which says what it expected.
    package mutating func claim(_ name: String, stem: String, in folder: String, path: String, into s: inout Submission) throws {
        guard let slot = MatrixSlot(stem) else { return }
        try claim(name, for: slot.description, in: folder)
        s.sources[slot.description] = path
    }
}

/// The one rule for the labels of a one-row or one-column CSV vector: names along its length are its
/// dimension names, honoured; the single name across it (a header over one column, a label before one row)
/// names the vector itself.
package enum VectorLabels {
    /// The vector in `m` (one row or one column), sparse by name when its length is labelled.
    package static func vector(_ m: Matrix, rowLabels: [String]?, columnLabels: [String]?) -> RawVector {
        let lengthLabels: [String]?
        switch (m.rows, m.columns) {
        case (1, 1): lengthLabels = columnLabels ?? rowLabels
        case (_, 1): lengthLabels = rowLabels
        default: lengthLabels = columnLabels
        }
        guard let lengthLabels else { return .dense(m.values) }
        return .sparse(Array(zip(lengthLabels, m.values)))
    }
}

/// A file name's extension and stem, computed here: Foundation's `NSString.pathExtension` traps on some
/// names (a fuzzer found one), and every name in a class folder comes from a student.
package enum FileName {
    /// The last component of `path`, trailing slashes ignored.
    package static func lastComponent(_ path: String) -> Substring {
        let trimmed = path.reversed().drop { $0 == "/" }
        let component = trimmed.prefix { $0 != "/" }
        return Substring(String(component.reversed()))
    }

    /// The text after the last `.` of the last component, when that dot is neither its first nor its last
    /// character (`.bashrc` and `a.` have none); empty otherwise.
    package static func pathExtension(_ path: String) -> String {
        let name = lastComponent(path)
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex, name.index(after: dot) != name.endIndex else { return "" }
        return String(name[name.index(after: dot)...])
    }

    /// The last component of `path` without its extension (and the dot before it).
    package static func stem(_ path: String) -> String {
        let name = lastComponent(path)
        let ext = pathExtension(path)
        return ext.isEmpty ? String(name) : String(name.dropLast(ext.count + 1))
    }
}
