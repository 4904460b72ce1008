import Numerics
import Model
import Formats
import Exercises
import Grading
import Reports
import Batch

/// Options several commands declare, with one spelling, placeholder and help text each.
package enum CommonOptions {
    /// The environment variable `--seed` falls back to.
    package static let seedVariable = "CIRCUIT_GRADER_SEED"
    /// The environment variable `--exercises` falls back to.
    package static let exercisesVariable = "CIRCUIT_GRADER_EXERCISES"

    package static let exercises = OptionSpec(
        "exercises", .value(placeholder: "DIR"), default: "exercises", environment: exercisesVariable, help: "where the exercise specs are")
    package static let exercise = OptionSpec("exercise", .value(placeholder: "ID"), help: "the exercise, for submissions that do not name it")
    package static let seed = OptionSpec(
        "seed", .value(placeholder: "S"), default: String(Grader.publicSeed), environment: seedVariable,
        help: "seed for the generated cases: a whole number, or text to hash")
    package static let noColor = OptionSpec("no-color", .flag, help: "no ANSI colour, even on a terminal (as NO_COLOR does)")
    package static let budget = OptionSpec(
        "budget", .value(placeholder: "N"), default: String(AdversarialSearch.defaultBudget),
        help: "model evaluations for the adversarial search, 0 (off) to 1000000")
    package static let proofBudget = OptionSpec(
        "proof-budget", .value(placeholder: "SECONDS"),
        help: "seconds of whole-domain enumeration, 0 to 3600 (default: the spec's proof_budget, else 1)")
    package static let prove = OptionSpec("prove", .flag, help: "enumerate the whole domain, however long it takes")

    /// `--format FORMAT`, one of `allowed`; the first is the default.
    package static func format(_ allowed: [String]) -> OptionSpec {
        OptionSpec("format", .value(placeholder: "FORMAT"), allowed: allowed, default: allowed.first, help: "the output format")
    }

    /// `--out PLACEHOLDER`, saying where the command writes.
    package static func out(_ placeholder: String, required: Bool = false, default defaultValue: String? = nil, help: String) -> OptionSpec {
        OptionSpec("out", .value(placeholder: placeholder), default: defaultValue, required: required, help: help)
    }
}
