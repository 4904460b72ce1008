import Numerics
import Model
import Formats
import Exercises
import Grading

/// The machine-readable report (`--format json`), schema `circuit-grader/report`, version 1
/// (documented in docs/json-schema.md).
public enum JSONReport {
    /// The schema identifier written in every JSON document.
    public static let schema = "circuit-grader/report@1"

    /// One submission's report.
    public static func value(_ r: GradeReport) -> JSONValue {
        .obj([
            ("file", .string(r.file)), ("exercise", .string(r.exercise)), ("title", .string(r.title)),
            ("status", .string(r.passed ? "passed" : "failed")),
            ("exploratory_reason", r.exploratory.map(JSONValue.string) ?? .null),
            ("score", .number(r.score)), ("max_score", .number(r.maxScore)),
            ("seed", r.disclosedSeed.map { .string(String($0)) } ?? .null), ("spec_hash", .string(r.specHash)), ("grader_version", .string(r.graderVersion)),
            ("families", .array(r.families.map(family))),
            ("verdicts", .array(r.verdicts.map(verdict))),
            (
                "heads",
                .array(
                    r.heads.map { h in
                        .obj([
                            ("head", .string(h.head.description)), ("needed", .bool(h.needed)), ("silent", .bool(h.silent)),
                            ("failing_family", h.failingFamily.map(JSONValue.string) ?? .null),
                        ])
                    })
            ),
        ])
    }

    package static func verdict(_ v: DomainVerdict) -> JSONValue {
        .obj([
            ("status", .string(v.status.rawValue)), ("summary", .string(v.summary)), ("frame", .string(v.frame)),
            ("domain_sequences", .number(Double(v.domainSize))), ("enumerated", .number(Double(v.enumerated))),
            ("enumerated_length", .number(Double(v.enumeratedLength))), ("stressed", .number(Double(v.stressed))),
            ("searched", .number(Double(v.searched))), ("worst_margin", v.worstMargin.map(JSONValue.number) ?? .null),
            ("found_by", v.foundBy.map { .string($0.rawValue) } ?? .null), ("family", v.family.map(JSONValue.string) ?? .null),
        ])
    }

    package static func family(_ f: FamilyResult) -> JSONValue {
        .obj([
            ("id", .string(f.id)), ("title", .string(f.title)), ("passed", .bool(f.passed)),
            ("points", .number(f.points)), ("earned", .number(f.earned)), ("visibility", .string(f.visibility.rawValue)),
            ("targets", .number(Double(f.total))), ("correct", .number(Double(f.correct))), ("accuracy", .number(f.accuracy)),
            ("worst_margin", f.worstMargin.map(JSONValue.number) ?? .null),
            ("median_margin", f.medianMargin.map(JSONValue.number) ?? .null),
            ("counterexample", f.counterexample.map(counterexample) ?? .null),
            ("failures", .array(f.failures.map(counterexample))),
        ])
    }

    package static func counterexample(_ c: Counterexample) -> JSONValue {
        .obj([
            ("sequence", .array(c.sequence.map(JSONValue.string))), ("position", c.position.map { .number(Double($0)) } ?? .null),
            ("what", .string(c.what)), ("expected", .string(c.expected)), ("found", .string(c.found)),
            ("margin", c.margin.map(JSONValue.number) ?? .null),
            ("minimized", c.minimized.map(counterexample) ?? .null),
        ])
    }

    /// A document wrapping many reports and errors.
    public static func document(_ items: [JSONValue]) -> JSONValue {
        .obj([("schema", .string(schema)), ("results", .array(items))])
    }

    /// A session outcome as a result entry.
    public static func value(_ outcome: GradingSession.Outcome) -> JSONValue {
        switch outcome {
        case .graded(let r): value(r)
        case .error(let e, let exercise):
            .obj([
                ("file", .string(e.file)), ("exercise", exercise.map(JSONValue.string) ?? .null),
                ("status", .string("error")), ("error", .string(e.description)),
            ])
        }
    }
}
