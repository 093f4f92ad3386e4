import StrataDiagnostics

/// The codes of the check phase: E4xx for names, ops, attributes and blocks,
/// W4xx for warnings about them.
extension DiagnosticCode {
    public static let undefinedValue = DiagnosticCode("E401", "`from` names no value")
    public static let valueUsedEarly = DiagnosticCode("E402", "value used before it is defined")
    public static let duplicateValue = DiagnosticCode("E403", "value name defined twice")
    public static let unknownOp = DiagnosticCode("E404", "unknown op or block")
    public static let unknownAttribute = DiagnosticCode("E405", "unknown attribute")
    public static let missingAttribute = DiagnosticCode("E406", "required attribute missing")
    public static let badAttribute = DiagnosticCode("E407", "attribute value of the wrong kind")
    public static let noPrimary = DiagnosticCode("E408", "value given to an op that has no primary attribute")
    public static let unknownName = DiagnosticCode("E409", "unknown name in an expression")
    public static let unknownBlockParam = DiagnosticCode("E410", "unknown block parameter")
    public static let missingBlockParam = DiagnosticCode("E411", "required block parameter missing")
    public static let blockRecursion = DiagnosticCode("E412", "block uses itself")
    public static let badRepeat = DiagnosticCode("E413", "`repeat` not a positive constant")
    public static let wrongInputCount = DiagnosticCode("E414", "wrong number of inputs for the op")
    public static let ambiguousInput = DiagnosticCode("E415", "first layer of a multi-input network without `from`")
    public static let undefinedOutput = DiagnosticCode("E416", "output `from` names no value")
    public static let outputNeedsFrom = DiagnosticCode("E417", "one of several outputs without `from`")
    public static let repeatMultiInput = DiagnosticCode("E418", "`repeat` on an op with several inputs")
    public static let blockShadowsOp = DiagnosticCode("E419", "block named like an op")
    public static let unknownNetwork = DiagnosticCode("E420", "`train` names no network")
    public static let unboundRole = DiagnosticCode("E421", "`train` objective without a network it needs")
    public static let paramNotComputable = DiagnosticCode("E422", "integer param whose value cannot be computed")
    public static let unusedBlock = DiagnosticCode("W401", "block never used", severity: .warning)

    /// Every code this phase can report, for docs/diagnostics.md.
    public static let checkCodes: [DiagnosticCode] = [
        .undefinedValue, .valueUsedEarly, .duplicateValue, .unknownOp, .unknownAttribute, .missingAttribute,
        .badAttribute, .noPrimary, .unknownName, .unknownBlockParam, .missingBlockParam, .blockRecursion,
        .badRepeat, .wrongInputCount, .ambiguousInput, .undefinedOutput, .outputNeedsFrom, .repeatMultiInput,
        .blockShadowsOp, .unknownNetwork, .unboundRole, .paramNotComputable, .unusedBlock,
    ]
}
