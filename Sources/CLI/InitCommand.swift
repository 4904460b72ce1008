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
    /// What the command accepts: its parser, refusals and `--help` are generated from this.
    package static let spec = CommandSpec(
        "init", summary: "a zero submission template: JSON, a folder of CSV files, or a TransformerLens script",
        positional: PositionalSpec("ID", noun: "exercise id", arity: .one, help: "the exercise, as `circuit-grader list` names it"),
        options: [
            CommonOptions.format(["json", "csv", "transformerlens"]),
            OptionSpec("csv", .flag, help: "the same as --format csv"),
            CommonOptions.out(
                "PATH", help: "where to write; never overwrites (default: standard output for json, the id for csv, ID.py for transformerlens)"),
            CommonOptions.exercises,
        ])

    /// The declaration with the code it runs.
    package static let command = Command(spec, run: run)

    /// Runs on arguments parsed against `spec`; returns the exit status.
    package static func run(_ c: Context) throws -> Int32 {
        let csv = c.args.flags.contains("csv")
        if csv, let given = c.args.options["format"], given != "csv" {
            throw UsageError(Self.spec, "--csv and --format \(given) ask for different templates; give one of them")
        }
        let format = csv ? "csv" : c.args.format
        let template = SubmissionTemplate(spec: try c.catalog().spec(try c.args.only()))
        if format == "transformerlens" {
            let out = c.args.options["out"] ?? template.transformerLensScriptName
            try refuseExisting(out)
            do { try Data(template.transformerLensScript.utf8).write(to: URL(fileURLWithPath: out)) } catch {
                throw GraderError(file: out, "cannot write the script: \(error.localizedDescription)")
            }
            c.output.out(
                "wrote a TransformerLens script for \(template.spec.id) to \(out); fill in set_heads, run `python \(out)`, then check the file it writes\n")
        } else if format == "csv" {
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
