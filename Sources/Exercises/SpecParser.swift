import Foundation
import Numerics
import Model
import Formats

/// Turns a spec file's JSON into a validated `ExerciseSpec`; every error names the file, JSON path and line.
public enum SpecParser {
    package static let topKeys = [
        "$comment", "id", "exercise", "variant", "title", "source", "description", "status",
        "exploratory_reason", "vocab", "bos", "outputs", "n_ctx", "positional", "causal",
        "attention_scale", "limits", "residual", "scratch", "fixed", "student_embeddings",
        "optional_matrices", "rule", "positions", "families", "reference", "proof_budget", "domain_points",
        "necessary_heads",
    ]

    /// Parses spec `bytes` read from `file`.
    public static func parse(_ bytes: [UInt8], file: String) throws -> ExerciseSpec {
        let root = try JSONFields(try JSONParser.parse(bytes, file: file), file: file, path: "", allowed: topKeys)
        let vocab = try root.strings("vocab")
        let bos = try root.optionalString("bos")
        let outputs = try root.optionalStrings("outputs") ?? (vocab + [PredictionRule.none])
        try requireUnique(vocab + (bos.map { [$0] } ?? []), root, "vocab")
        try requireUnique(outputs, root, "outputs")
        let lists = ["vocab": vocab, "outputs": outputs]
        let names = try expand(try root.strings("residual"), lists: lists, root, "residual")
        try requireUnique(names, root, "residual")
        let scratch = try expand(try root.optionalStrings("scratch") ?? [], lists: lists, root, "scratch")
        let layout = ResidualLayout(names: names, scratch: scratch)
        let nCtx = try root.integer("n_ctx", in: 1...InputLimits.maxDimension)
        let positional: PositionalMode = try root.choice("positional", default: .none)
        let limits = try parseLimits(root)
        let frame = Frame(vocab: vocab, bos: bos, outputs: outputs, layout: layout, nCtx: nCtx, positional: positional, dHead: limits.dHead)
        let fixed = try FixedMatrices.parse(root.fields("fixed", allowed: ["W_E", "W_pos", "W_U", "b_U"]), frame: frame)
        let defaultPlan = try parsePlan(root, frame: frame, inherited: nil)
        let familyValues = try root.array("families")
        var families: [ExerciseSpec.Family] = []
        for (i, value) in familyValues.enumerated() {
            let fields = try JSONFields(value, file: file, path: "families[\(i)]", allowed: familyKeys)
            families.append(try parseFamily(fields, frame: frame, defaultPlan: defaultPlan, limits: limits))
        }
        try requireUnique(families.map(\.id), root, "families")
        try SpecLimits.check(fixed: fixed, families: families, root)
        let hash = String(format: "%016llx", fnv1a64(String(decoding: bytes, as: UTF8.self)))
        let scale = try parseScale(root, dHead: limits.dHead)
        var spec = ExerciseSpec(
            id: try root.string("id"), exercise: try root.string("exercise"), variant: try root.string("variant"),
            title: try root.string("title"), origin: try root.string("source"), description: try root.string("description"),
            status: try parseStatus(root), vocab: vocab, bos: bos, outputs: outputs, nCtx: nCtx,
            positional: positional, causal: try root.optionalBool("causal") ?? true,
            attentionScale: scale.value, limits: limits, layout: layout,
            wE: fixed.wE, wPos: fixed.wPos, wU: fixed.wU, bU: fixed.bU,
            studentEmbeddings: try root.optionalBool("student_embeddings") ?? false,
            optionalMatrices: Set(try root.optionalStrings("optional_matrices") ?? []),
            families: families, reference: try root.optionalString("reference"),
            proofBudget: try parseProofBudget(root), domainPoints: try parsePoints(root, "domain_points") ?? 1,
            necessaryHeads: try parseNecessaryHeads(root, limits: limits),
            file: file, specHash: hash)
        spec.attentionScaleFollowsDHead = scale.followsDHead
        return spec
    }

    /// What the parts of a spec need to know about its frame.
    package struct Frame {
        package var vocab: [String]
        package var bos: String?
        package var outputs: [String]
        package var layout: ResidualLayout
        package var nCtx: Int
        package var positional: PositionalMode
        package var dHead: Int?
        package var maxLength: Int { nCtx - (bos == nil ? 0 : 1) }
    }

    package static let familyKeys = [
        "id", "title", "description", "points", "visibility", "pass_accuracy", "min_margin",
        "cases", "generator", "circuits", "questions", "rule", "positions", "attention", "partial_credit",
    ]

    private static func parseStatus(_ root: JSONFields) throws -> ExerciseSpec.Status {
        switch try root.optionalString("status") ?? "graded" {
        case "graded": return .graded
        case "exploratory": return .exploratory(reason: try root.string("exploratory_reason"))
        case let other: throw root.error("status", "expected \"graded\" or \"exploratory\", found \"\(other)\"")
        }
    }

    private static func parseProofBudget(_ root: JSONFields) throws -> Double? {
        guard let x = try root.optionalNumber("proof_budget") else { return nil }
        guard x.isFinite, x >= 0, x <= 3600 else { throw root.error("proof_budget", "expected seconds from 0 to 3600, found \(x)") }
        return x
    }

    package static func parsePoints(_ f: JSONFields, _ key: String) throws -> Double? {
        guard let x = try f.optionalNumber(key) else { return nil }
        guard x.isFinite, x >= 0, x <= 1e6 else { throw f.error(key, "expected points from 0 to 1000000, found \(x)") }
        return x
    }

    private static func parseNecessaryHeads(_ root: JSONFields, limits: ExerciseSpec.Limits) throws -> [HeadRef] {
        try (root.optionalStrings("necessary_heads") ?? []).map { text in
            guard let head = HeadRef(text), head.layer < limits.layers, head.head < limits.headsPerLayer else {
                throw root.error(
                    "necessary_heads", "\"\(text)\" is not a head within the limits (\(limits.layers) layers × \(limits.headsPerLayer) heads)")
            }
            return head
        }
    }

    private static func parseLimits(_ root: JSONFields) throws -> ExerciseSpec.Limits {
        let f = try root.fields("limits", allowed: ["layers", "heads", "d_head"])
        return .init(
            layers: try f.integer("layers", in: 1...16), headsPerLayer: try f.integer("heads", in: 1...64),
            dHead: try f.optionalInteger("d_head", in: 1...InputLimits.maxDimension))
    }

    /// The scale, and whether it was written `1/sqrt(d_head)` (then it follows the graded model's d_head).
    private static func parseScale(_ root: JSONFields, dHead: Int?) throws -> (value: Double, followsDHead: Bool) {
        guard root.has("attention_scale") else { return (1, false) }
        let v = try root.value("attention_scale")
        if let x = v.number, x.isFinite, x > 0 { return (x, false) }
        if v.string == AttentionScale.inverseSqrtDHead, let dHead { return (1 / Double(dHead).squareRoot(), true) }
        throw root.error("attention_scale", "expected a positive number, or \"1/sqrt(d_head)\" with limits.d_head set")
    }

    private static func parseFamily(
        _ f: JSONFields, frame: Frame, defaultPlan: LabelPlan?,
        limits: ExerciseSpec.Limits
    ) throws -> ExerciseSpec.Family {
        let plan = try parsePlan(f, frame: frame, inherited: defaultPlan)
        let sources = ["cases", "generator", "circuits", "questions"].filter(f.has)
        guard sources.count == 1 else {
            throw f.error(nil, "a family needs exactly one of \"cases\", \"generator\", \"circuits\", \"questions\", found \(sources.count)")
        }
        let source: ExerciseSpec.Source
        switch sources[0] {
        case "cases":
            source = .explicit(
                try f.array("cases").enumerated().map { i, c in
                    try CaseParser.parse(
                        JSONFields(c, file: f.file, path: f.path("cases[\(i)]"), allowed: CaseParser.keys),
                        frame: frame, plan: plan)
                })
        case "generator":
            guard let plan else { throw f.error("generator", "a generated family needs a \"rule\" or \"attention\" (here or at the top level)") }
            source = .generated(try GeneratorParser.parse(f.fields("generator", allowed: GeneratorParser.keys), frame: frame), plan)
        case "circuits":
            source = .circuits(
                try f.array("circuits").enumerated().map { i, c in
                    try CircuitParser.parse(JSONFields(c, file: f.file, path: f.path("circuits[\(i)]"), allowed: CircuitParser.keys), frame: frame)
                })
        default:
            source = .questions(
                try f.array("questions").enumerated().map { i, q in
                    try CircuitParser.question(JSONFields(q, file: f.file, path: f.path("questions[\(i)]"), allowed: CircuitParser.questionKeys))
                })
        }
        let id = try f.string("id")
        guard !reservedFamilyIDs(id) else {
            throw f.error("id", "\"\(id)\" is reserved for the family the grader adds (domain, domain-N, necessary-heads)")
        }
        let passAccuracy = try f.optionalNumber("pass_accuracy") ?? 1
        guard passAccuracy > 0, passAccuracy <= 1 else { throw f.error("pass_accuracy", "expected a fraction in (0, 1], found \(passAccuracy)") }
        let minMargin = try f.optionalNumber("min_margin") ?? 0
        guard minMargin >= 0, minMargin < 1 else { throw f.error("min_margin", "expected a margin in [0, 1), found \(minMargin)") }
        if minMargin > 0, case .circuits = source { throw f.error("min_margin", "circuit checks have no margin") }
        if minMargin > 0, case .questions = source { throw f.error("min_margin", "questions have no margin") }
        if frame.bos == nil, let plan, plan.attention.contains(where: { $0.rule == .bos }) {
            throw f.error("attention", "attention \"to\": \"bos\" needs an exercise with a BOS token")
        }
        return .init(
            id: id, title: try f.optionalString("title") ?? id,
            points: try parsePoints(f, "points") ?? 1, visibility: try f.choice("visibility", default: .visible),
            passAccuracy: passAccuracy, minMargin: minMargin, partialCredit: try f.optionalBool("partial_credit") ?? false, source: source)
    }

    /// The label plan at this level: its own `rule` / `positions` / `attention`, else the inherited one.
    package static func parsePlan(_ f: JSONFields, frame: Frame, inherited: LabelPlan?) throws -> LabelPlan? {
        guard f.has("rule") || f.has("attention") || f.has("positions") else { return inherited }
        // `"rule": null` drops an inherited prediction rule (e.g. a family graded on attention only).
        var rule = inherited?.predict
        if f.has("rule") {
            let value = try f.value("rule")
            rule = value == .null ? nil : try RuleParser.parse(value, fields: f, frame: frame)
        }
        if let rule {
            let missing = rule.possibleOutputs(vocab: frame.vocab).subtracting(frame.outputs).sorted()
            guard missing.isEmpty else {
                throw f.error(
                    "rule",
                    "the rule can label a slot \(missing.joined(separator: ", ")), which is not among the outputs (\(frame.outputs.joined(separator: " "))); add it to \"outputs\""
                )
            }
        }
        let attention =
            f.has("attention")
            ? try f.array("attention").enumerated().map { i, a in
                try RuleParser.attention(JSONFields(a, file: f.file, path: f.path("attention[\(i)]"), allowed: RuleParser.attentionKeys))
            } : inherited?.attention ?? []
        let positions: GradedPositions = try f.choice("positions", default: inherited?.positions ?? .all)
        return LabelPlan(predict: rule, positions: positions, attention: attention)
    }

    /// Family ids the grader gives the families it adds.
    package static func reservedFamilyIDs(_ id: String) -> Bool {
        id == "necessary-heads" || DomainFamilyID.index(of: id) != nil
    }

    package static func requireUnique(_ items: [String], _ f: JSONFields, _ key: String) throws {
        var seen = Set<String>()
        for item in items where !seen.insert(item).inserted {
            throw f.error(key, "\"\(item)\" appears twice; names must be unique")
        }
    }

    package static func expand(_ patterns: [String], lists: [String: [String]], _ f: JSONFields, _ key: String) throws -> [String] {
        do { return try ResidualLayout.expand(patterns, lists: lists) } catch {
            throw f.error(key, "cannot expand \"\(error.pattern)\": \(error.reason)")
        }
    }
}
