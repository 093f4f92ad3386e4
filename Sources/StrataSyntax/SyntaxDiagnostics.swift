import StrataDiagnostics

/// The codes of the syntax phase: E1xx for YAML, E2xx for the spec's
/// structure, E3xx for expressions.
extension DiagnosticCode {
    public static let yamlSyntax = DiagnosticCode("E101", "YAML syntax error")
    public static let duplicateKey = DiagnosticCode("E102", "duplicate key in a mapping")
    public static let aliasBomb = DiagnosticCode("E103", "aliases expand past the node limit")
    public static let tooDeep = DiagnosticCode("E104", "nesting deeper than the limit")
    public static let invalidUTF8 = DiagnosticCode("E105", "file is not valid UTF-8")
    public static let tab = DiagnosticCode("E106", "tab character in indentation")
    public static let emptyFile = DiagnosticCode("E107", "empty file")
    public static let multipleDocuments = DiagnosticCode("E108", "more than one YAML document")
    public static let unknownAlias = DiagnosticCode("E109", "alias to an undefined anchor")
    public static let badMerge = DiagnosticCode("E110", "merge key with a value that is not a mapping")

    public static let unknownKey = DiagnosticCode("E201", "unknown key")
    public static let missingKey = DiagnosticCode("E202", "required key missing")
    public static let wrongType = DiagnosticCode("E203", "value of the wrong kind")
    public static let badVersion = DiagnosticCode("E204", "unsupported spec format version")
    public static let badName = DiagnosticCode("E205", "name not in the allowed form")
    public static let shorthandConflict = DiagnosticCode("E206", "top-level network mixed with `networks:`")
    public static let badLayerEntry = DiagnosticCode("E207", "layer entry without exactly one op")
    public static let badChoice = DiagnosticCode("E208", "value not among the allowed choices")
    public static let duplicateSymbol = DiagnosticCode("E209", "param, dim or block parameter defined twice")
    public static let emptyCollection = DiagnosticCode("E210", "list or mapping that must not be empty")

    public static let exprSyntax = DiagnosticCode("E301", "malformed expression")
    public static let intOverflow = DiagnosticCode("E302", "integer literal out of range")
    public static let notANumber = DiagnosticCode("E303", "number expected")

    /// Every code this phase can report, for docs/diagnostics.md.
    public static let syntaxCodes: [DiagnosticCode] = [
        .yamlSyntax, .duplicateKey, .aliasBomb, .tooDeep, .invalidUTF8, .tab, .emptyFile, .multipleDocuments,
        .unknownAlias, .badMerge,
        .unknownKey, .missingKey, .wrongType, .badVersion, .badName, .shorthandConflict, .badLayerEntry,
        .badChoice, .duplicateSymbol, .emptyCollection,
        .exprSyntax, .intOverflow, .notANumber,
    ]
}
