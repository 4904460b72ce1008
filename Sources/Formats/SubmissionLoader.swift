import Foundation
import Numerics
import Model

/// Reads a submission from disk in any accepted form, chosen by what the path is:
/// a `.json` file (nested or state-dict names), `.npz` (`np.savez`), `.safetensors`, or a folder of
/// `.csv` / `.npy` files, one matrix each.
///
/// In a folder, files are named after what they hold: `L0H0.W_Q.csv`, `L0H0.b_Q.csv`, `L0.b_O.csv`,
/// `W_E.csv`, `b_U.csv`, or state-dict names (`blocks.0.attn.W_Q.npy`, `[n_heads, d_model, d_head]`);
/// an optional `exercise.txt` names the exercise and `convention.txt` the convention.
public enum SubmissionLoader {
    /// Loads the submission at `path`.
    public static func load(_ path: String) throws -> Submission {
        let submission = try loadUnchecked(path)
        try submission.checkWeights()
        return submission
    }

    /// The submission at `path` as its reader built it, before the weight limit.
    private static func loadUnchecked(_ path: String) throws -> Submission {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw GraderError(file: path, "no such file or folder")
        }
        if isDirectory.boolValue { return try FolderSubmission.load(path) }
        let bytes = try readFile(path)
        switch FileName.pathExtension(path).lowercased() {
        case "json": return try JSONSubmission.parse(bytes, file: path)
        case "npz":
            return try StateDict.submission(try NPZReader.read(bytes, file: path), file: path, exercise: nil, convention: .transformerLens)
        case "safetensors":
            let (tensors, metadata) = try SafetensorsReader.read(bytes, file: path)
            let convention = try SafetensorsReader.convention(metadata, file: path)
            return try StateDict.submission(
                tensors, file: path, exercise: metadata["exercise"], convention: convention, metadata: metadata)
        case "npy":
            throw GraderError(file: path, "a .npy file holds one array; put one .npy per matrix in a folder, or save them all with np.savez")
        case let ext:
            throw GraderError(file: path, "unsupported file type \".\(ext)\" (expected .json, .npz, .safetensors, or a folder of .csv/.npy files)")
        }
    }

    /// The bytes of `path`, refusing anything but a regular file of at most `InputLimits.maxFileBytes`
    /// (checked before it is opened; see `SafeFile`).
    public static func readFile(_ path: String) throws -> [UInt8] {
        try SafeFile.read(path)
    }
}

/// A folder of one-matrix files (see `SubmissionLoader`).
package enum FolderSubmission {
    package static func load(_ folder: String) throws -> Submission {
        let names = try FolderListing.names(in: folder)
        return try build(names: names, folder: folder) { name in
            try SubmissionLoader.readFile((folder as NSString).appendingPathComponent(name))
        }
    }

    /// The submission made of the files `names` of `folder`, whose bytes `read` gives (the disk, or a fuzzer).
    package static func build(names: [String], folder: String, read: (String) throws -> [UInt8]) throws -> Submission {
        var submission = Submission(file: folder)
        var tensors: [(name: String, tensor: Tensor)] = []
        var found = false
        var sources = SlotSources()
        for name in names.sorted() {
            let path = (folder as NSString).appendingPathComponent(name)
            let ext = FileName.pathExtension(name).lowercased()
            let stem = FileName.stem(name)
            switch ext {
            case "txt" where stem == "exercise":
                try sources.claim(name, for: "exercise.txt", in: folder)
                submission.exercise = String(decoding: try read(name), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            case "txt" where stem == "convention":
                try sources.claim(name, for: "convention.txt", in: folder)
                let text = String(decoding: try read(name), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                guard let c = Submission.Convention(rawValue: text) else {
                    throw GraderError(file: path, "expected \"transformer_lens\" or \"anthropic\", found \"\(text)\"")
                }
                submission.convention = c
            case "csv":
                found = true
                try sources.claim(name, stem: stem, in: folder, path: path, into: &submission)
                let raw = try CSVMatrix.parse(String(decoding: try read(name), as: UTF8.self), file: path, location: stem)
                try place(raw, name: stem, into: &submission, file: path)
            case "npy":
                found = true
                try sources.claim(name, stem: stem, in: folder, path: path, into: &submission)
                let tensor = try NPYReader.read(try read(name), file: path, name: stem)
                if StateDict.isStateDictName(stem) {
                    tensors.append((stem, tensor))
                } else {
                    guard let m = tensor.matrix ?? (tensor.shape.count == 1 ? Matrix(rows: 1, columns: tensor.values.count, values: tensor.values) : nil) else {
                        throw GraderError(file: path, location: stem, "expected a 1- or 2-dimensional array, found shape \(shapeText(tensor.shape))")
                    }
                    try place(.dense(m, rowLabels: nil, columnLabels: nil), name: stem, into: &submission, file: path)
                }
            default:
                continue
            }
        }
        if !tensors.isEmpty {
            guard submission.layers.isEmpty else {
                throw GraderError(file: folder, "mixes state-dict names (blocks.…) with per-head files (L0H0.…); use one naming scheme")
            }
            let fromState = try StateDict.submission(tensors, file: folder, exercise: submission.exercise, convention: submission.convention)
            submission.layers = fromState.layers
            submission.embeddings.merge(fromState.embeddings) { a, _ in a }
            submission.bU = submission.bU ?? fromState.bU
        }
        guard found else {
            throw GraderError(
                file: folder,
                "the folder holds no .csv or .npy files; to grade the .json/.npz/.safetensors files in it, pass them to check one by one or grade the folder with `grade`"
            )
        }
        return submission
    }

    /// Puts a one-matrix file named `L{l}H{h}.{W_Q…}`, `L{l}.b_O`, `W_E`, `W_pos`, `W_U` or `b_U` in place.
    private static func place(_ raw: RawMatrix, name: String, into s: inout Submission, file: String) throws {
        if Submission.embeddingNames.contains(name) { s.embeddings[name] = raw; return }
        if name == "b_U" { s.bU = try vector(raw, file: file, name: name); return }
        let parts = name.split(separator: ".").map(String.init)
        guard parts.count == 2, let ref = parseLayerHead(parts[0]) else {
            throw GraderError(
                file: file, "cannot tell what this file holds from its name \"\(name)\"; expected L0H0.W_Q, L0H0.b_Q, L0.b_O, W_E, W_pos, W_U or b_U")
        }
        guard ref.layer < InputLimits.maxLayers, (ref.head ?? 0) < InputLimits.maxHeads else {
            throw GraderError(file: file, "\(parts[0]) is beyond the limits of \(InputLimits.maxLayers) layers and \(InputLimits.maxHeads) heads")
        }
        while s.layers.count <= ref.layer { s.layers.append(Submission.Layer()) }
        if let h = ref.head {
            while s.layers[ref.layer].heads.count <= h { s.layers[ref.layer].heads.append(Submission.Head()) }
            if Submission.biasNames.contains(parts[1]) {
                s.layers[ref.layer].heads[h].biases[parts[1]] = try vector(raw, file: file, name: name)
            } else if (Submission.factoredNames + Submission.circuitNames).contains(parts[1]) {
                s.layers[ref.layer].heads[h].matrices[parts[1]] = raw
            } else {
                throw GraderError(file: file, "unknown matrix \"\(parts[1])\"; expected W_Q, W_K, W_V, W_O, W_QK, W_OV, b_Q, b_K or b_V")
            }
        } else if parts[1] == "b_O" {
            s.layers[ref.layer].bO = try vector(raw, file: file, name: name)
        } else {
            throw GraderError(file: file, "a layer-level file can only be b_O, found \"\(parts[1])\"")
        }
    }

    private static func parseLayerHead(_ text: String) -> (layer: Int, head: Int?)? {
        if let ref = HeadRef(text) { return (ref.layer, ref.head) }
        guard text.hasPrefix("L"), let l = Int(text.dropFirst()), l >= 0 else { return nil }
        return (l, nil)
    }

    private static func vector(_ raw: RawMatrix, file: String, name: String) throws -> RawVector {
        guard case .dense(let m, let rowLabels, let columnLabels) = raw, m.rows == 1 || m.columns == 1 else {
            throw GraderError(file: file, location: name, "expected one row (or one column) of values")
        }
        return VectorLabels.vector(m, rowLabels: rowLabels, columnLabels: columnLabels)
    }
}
