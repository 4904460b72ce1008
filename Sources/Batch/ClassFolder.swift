import Foundation
import Numerics
import Model
import Formats
import Exercises
import Grading
import Reports

/// The submissions in a class folder: one child per student, a file or a folder.
///
/// A student's folder may hold several submission files (`.json`, `.npz`, `.safetensors`: one row each), or
/// `.csv` / `.npy` matrix files (one folder submission; subfolders of such files are one each). Hidden
/// entries are skipped. Nothing outside the class folder is read: a symlink whose target leaves the folder
/// becomes an error row, never a read.
public struct ClassFolder: Sendable {
    /// One row to grade: a student and a path, or a problem found before grading.
    public struct Entry: Equatable, Sendable {
        public var student: String
        public var path: String
        public var problem: GraderError?
    }

    public let root: String
    public let entries: [Entry]

    package static let fileExtensions: Set<String> = ["json", "npz", "safetensors"]
    package static let matrixExtensions: Set<String> = ["csv", "npy"]

    public init(root: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw GraderError(file: root, "the class folder does not exist or is not a folder")
        }
        self.root = root
        let realRoot = URL(fileURLWithPath: root).resolvingSymlinksInPath().path
        var entries: [Entry] = []
        for name in try Self.children(root) {
            let path = (root as NSString).appendingPathComponent(name)
            let student = Self.studentName(name)
            if let problem = Self.escape(path, realRoot: realRoot) ?? Self.notFileOrFolder(path) {
                entries.append(Entry(student: student, path: path, problem: problem))
                continue
            }
            if Self.isDirectory(path) {
                entries += Self.folderEntries(path, student: student, realRoot: realRoot)
            } else {
                entries.append(Entry(student: student, path: path, problem: nil))
            }
        }
        self.entries = entries
    }

    package static func children(_ folder: String) throws -> [String] {
        // Hidden entries and the __MACOSX folders of zip exports are not submissions.
        try FolderListing.names(in: folder).filter { !$0.hasPrefix(".") && $0 != "__MACOSX" }
    }

    /// An error when `path` is neither a regular file nor a folder (a FIFO, a device, a socket): it is never
    /// opened, since opening a FIFO waits for a writer and a device never ends.
    package static func notFileOrFolder(_ path: String) -> GraderError? {
        if case .other(let what) = SafeFile.kind(path) { return GraderError(file: path, "is \(what), not a submission file or folder; it was not read") }
        return nil
    }

    package static func isDirectory(_ path: String) -> Bool {
        var flag: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &flag) && flag.boolValue
    }

    /// The student a top-level entry belongs to: its name without a submission extension.
    package static func studentName(_ name: String) -> String {
        let ext = FileName.pathExtension(name).lowercased()
        return fileExtensions.contains(ext) ? FileName.stem(name) : name
    }

    /// An error when `path`, or any symlink below it, resolves outside `realRoot`, or when folders below it
    /// nest deeper than `InputLimits.maxFolderDepth` (or list more than `InputLimits.maxFolderEntries`).
    package static func escape(_ path: String, realRoot: String, depth: Int = 0) -> GraderError? {
        let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard real == realRoot || real.hasPrefix(realRoot + "/") else {
            return GraderError(file: path, "is a symlink to \(real), outside the class folder; it was not read")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return GraderError(file: path, "is a broken symlink or cannot be read")
        }
        if isDirectory.boolValue {
            guard depth < InputLimits.maxFolderDepth else {
                return GraderError(file: path, "folders nest more than \(InputLimits.maxFolderDepth) deep here; it was not read")
            }
            let items: [String]
            do { items = try FolderListing.names(in: path) } catch { return error as? GraderError }
            for item in items {
                if let problem = escape((path as NSString).appendingPathComponent(item), realRoot: realRoot, depth: depth + 1) { return problem }
            }
        }
        return nil
    }

    private static func folderEntries(_ folder: String, student: String, realRoot: String) -> [Entry] {
        guard let names = try? children(folder) else {
            return [Entry(student: student, path: folder, problem: GraderError(file: folder, "cannot list the student's folder"))]
        }
        var entries: [Entry] = []
        var hasMatrices = false
        for name in names {
            let path = (folder as NSString).appendingPathComponent(name)
            let ext = FileName.pathExtension(name).lowercased()
            if Self.isDirectory(path) {
                let inner = (try? children(path)) ?? []
                if inner.contains(where: { matrixExtensions.contains(FileName.pathExtension($0).lowercased()) }) {
                    entries.append(Entry(student: student, path: path, problem: nil))
                }
            } else if fileExtensions.contains(ext) {
                entries.append(Entry(student: student, path: path, problem: nil))
            } else if matrixExtensions.contains(ext) {
                hasMatrices = true
            }
        }
        if hasMatrices { entries.insert(Entry(student: student, path: folder, problem: nil), at: 0) }
        if entries.isEmpty {
            entries.append(
                Entry(
                    student: student, path: folder,
                    problem: GraderError(
                        file: folder, "the folder holds no submission (.json, .npz, .safetensors, or .csv/.npy matrix files)")))
        }
        return entries
    }
}
