/// Every limit the grader enforces on what it reads, in one place (documented in `docs/fuzzing.md`).
///
/// Each one is checked *before* the work it bounds: a file's size before it is read, a CSV's rows before it
/// is split, an archive's entries before any is decoded, a spec's generated cases before any is generated.
/// Arithmetic on numbers taken from a file (sizes, offsets, shapes, ranges, counts) is checked for overflow.
public enum InputLimits {
    /// Largest submission or spec file read, in bytes (64 MiB).
    public static let maxFileBytes = 64 << 20
    /// Largest single dimension of any matrix or tensor.
    public static let maxDimension = 4096
    /// Most entries in one tensor.
    public static let maxTensorElements = 4_000_000
    /// Largest absolute value of a weight; larger values overflow attention scores.
    public static let maxAbsWeight = 1e6
    /// Most tensors in one state-dict file.
    public static let maxTensors = 1024
    /// Most layers a submission may have.
    public static let maxLayers = 16
    /// Most heads per layer.
    public static let maxHeads = 64

    /// Most values (numbers, strings, arrays, objects…) in one JSON document: one full-size tensor and more.
    public static let maxJSONValues = 5_000_000
    /// Most lines (blank and comment lines included) in one CSV file.
    public static let maxCSVLines = 4 * (maxDimension + 1)
    /// Most cells (label cells included) in one CSV file.
    public static let maxCSVCells = maxTensorElements + 2 * (maxDimension + 1)

    /// Most residual dimensions an exercise's layout may expand to (`d_model`).
    public static let maxResidualNames = maxDimension
    /// Most tokens one spec's generated families may produce in total (`count × max length`, summed).
    public static let maxGeneratedTokens = 1_000_000
    /// Longest exercise id compared when suggesting a close one ("did you mean").
    public static let maxComparedIDLength = 256

    /// Deepest folder below a student's entry that `grade DIR` looks into.
    public static let maxFolderDepth = 4
    /// Most entries listed in one folder of a class (or submission) folder.
    public static let maxFolderEntries = 10_000
}
