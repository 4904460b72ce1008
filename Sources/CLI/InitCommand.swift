import Foundation
import Numerics
import Model
import Formats
import Exercises
import Grading
import Reports
import Batch

/// `init ID`: a zero submission template for an exercise, as JSON (standard output or `--out FILE`), with
/// `--csv` (or `--format csv`) as a folder of labelled CSV files (`--out FOLDER`, default: the exercise id), or
/// with `--format transformerlens` as a Python script that builds and saves the matching TransformerLens model
/// (`--out FILE`, default `ID.py` with `/` as `-`). Never overwrites.
package enum InitCommand {
    package static func run(_ c: Context) throws -> Int32 {
        guard c.args.positional.count == 1 else { throw GraderError(file: "", "init needs one exercise id; run `circuit-grader list` for the ids") }
        let format = try c.args.format(["text", "json", "csv", "transformerlens"])
        let template = SubmissionTemplate(spec: try c.catalog().spec(c.args.positional[0]))
        if format == "transformerlens" {
            let out = c.args.options["out"] ?? template.transformerLensScriptName
            try refuseExisting(out)
            do { try Data(template.transformerLensScript.utf8).write(to: URL(fileURLWithPath: out)) } catch {
                throw GraderError(file: out, "cannot write the script: \(error.localizedDescription)")
            }
            c.output.out(
                "wrote a TransformerLens script for \(template.spec.id) to \(out); fill in set_heads, run `python \(out)`, then check the file it writes\n")
        } else if c.args.flags.contains("csv") || format == "csv" {
            let folder = c.args.options["out"] ?? template.folderName
            try writeFolder(template.csvFiles, to: folder)
            c.output.out(
                "wrote \(plural(template.csvFiles.count, "file")) for \(template.spec.id) into \(folder); grade it with: circuit-grader check \(folder)\n")
        } else if let out = c.args.options["out"] {
            try refuseExisting(out)
            try c.write(template.json)
            c.output.out("wrote a template for \(template.spec.id) to \(out); grade it with: circuit-grader check \(out)\n")
        } else {
            c.output.out(template.json)
        }
        return ExitStatus.success
    }

    private static func refuseExisting(_ path: String) throws {
        if FileManager.default.fileExists(atPath: path) {
            throw GraderError(file: path, "already exists; init never overwrites, so choose another --out or remove it")
        }
    }

    private static func writeFolder(_ files: [SubmissionTemplate.File], to folder: String) throws {
        let existing = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        if !existing.isEmpty { throw GraderError(file: folder, "the folder is not empty; init never overwrites, so choose another --out") }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for file in files {
                try Data(file.text.utf8).write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent(file.name)))
            }
        } catch {
            throw GraderError(file: folder, "cannot write the template: \(error.localizedDescription)")
        }
    }
}
