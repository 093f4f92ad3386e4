import StrataDiagnostics

/// The codes of shape and type checking: E5xx for a layer's shapes and
/// types, E6xx for the contracts between networks that `train:` sets up,
/// W5xx for facts that could be neither proven nor refuted.
extension DiagnosticCode {
    public static let wrongRank = DiagnosticCode("E501", "input of the wrong rank")
    public static let channelMismatch = DiagnosticCode("E502", "channels or features that do not fit")
    public static let groupsMismatch = DiagnosticCode("E503", "`groups` that does not divide the channels")
    public static let nonPositiveSize = DiagnosticCode("E504", "output size that is not positive for some input size")
    public static let reshapeMismatch = DiagnosticCode("E505", "reshape to a different element count")
    public static let shapeMismatch = DiagnosticCode("E506", "values of different shapes combined")
    public static let outputMismatch = DiagnosticCode("E507", "declared output shape differs from the inferred one")
    public static let wrongDType = DiagnosticCode("E508", "value of the wrong element type")
    public static let inexactDivision = DiagnosticCode("E509", "`/` that is not exact for some input size")
    public static let notConstant = DiagnosticCode("E510", "attribute or parameter size that depends on a dim")
    public static let badAxis = DiagnosticCode("E511", "axis out of range or not a permutation")
    public static let badAttributeValue = DiagnosticCode("E512", "attribute value out of its range")
    public static let symbolicOverflow = DiagnosticCode("E513", "size arithmetic that overflows")
    public static let badInputShape = DiagnosticCode("E514", "declared input or output shape that is not positive")

    public static let ganMismatch = DiagnosticCode("E601", "generator output that does not fit the discriminator input")
    public static let vaeMismatch = DiagnosticCode("E602", "encoder and decoder that do not fit each other")
    public static let classifierShape = DiagnosticCode("E603", "classifier output that is not [N, K]")

    public static let unproven = DiagnosticCode("W501", "shape fact neither proven nor refuted", severity: .warning)

    /// Every code shape checking can report, for docs/diagnostics.md.
    public static let shapeCodes: [DiagnosticCode] = [
        .wrongRank, .channelMismatch, .groupsMismatch, .nonPositiveSize, .reshapeMismatch, .shapeMismatch,
        .outputMismatch, .wrongDType, .inexactDivision, .notConstant, .badAxis, .badAttributeValue,
        .symbolicOverflow, .badInputShape, .ganMismatch, .vaeMismatch, .classifierShape, .unproven,
    ]
}
