/// How bad a diagnostic is. `--werror` promotes warnings to errors.
public enum Severity: String, Sendable, Comparable {
    case error
    case warning
    case note

    private var rank: Int {
        switch self {
        case .error: return 0
        case .warning: return 1
        case .note: return 2
        }
    }
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// A stable diagnostic identity: users search for it and suppress by it, so an
/// id never changes meaning once released. Each phase declares its own codes.
public struct DiagnosticCode: Hashable, Sendable {
    public let id: String
    public let severity: Severity
    /// One line naming the mistake family, for docs/diagnostics.md and SARIF rules.
    public let title: String

    public init(_ id: String, _ title: String, severity: Severity = .error) {
        self.id = id
        self.severity = severity
        self.title = title
    }

    public static func == (a: DiagnosticCode, b: DiagnosticCode) -> Bool { a.id == b.id }
    public func hash(into h: inout Hasher) { h.combine(id) }
}

/// A span with an optional message printed under its carets.
public struct Label: Sendable {
    public let span: SourceSpan
    public let message: String
    public init(_ span: SourceSpan, _ message: String = "") {
        self.span = span
        self.message = message
    }
}

/// A mechanical edit that fixes the mistake: replace `span` with `replacement`.
public struct FixIt: Sendable {
    public let span: SourceSpan
    public let replacement: String
    public init(_ span: SourceSpan, _ replacement: String) {
        self.span = span
        self.replacement = replacement
    }
}

/// One finding, as data; the renderers decide how it looks. It is an Error so
/// that a phase that must stop at its first problem can throw it.
public struct Diagnostic: Error, Sendable {
    public let code: DiagnosticCode
    public var severity: Severity
    public let message: String
    public let primary: Label
    public var secondary: [Label]
    /// Extra facts (`= note: ...`), such as expected versus found.
    public var notes: [String]
    /// What to do about it (`= help: ...`).
    public var help: [String]
    public var fixIts: [FixIt]

    public init(
        _ code: DiagnosticCode, _ message: String, at primary: Label,
        secondary: [Label] = [], notes: [String] = [], help: [String] = [], fixIts: [FixIt] = []
    ) {
        self.code = code
        self.severity = code.severity
        self.message = message
        self.primary = primary
        self.secondary = secondary
        self.notes = notes
        self.help = help
        self.fixIts = fixIts
    }

    public init(
        _ code: DiagnosticCode, _ message: String, at span: SourceSpan, label: String = "",
        secondary: [Label] = [], notes: [String] = [], help: [String] = [], fixIts: [FixIt] = []
    ) {
        self.init(code, message, at: Label(span, label), secondary: secondary, notes: notes, help: help, fixIts: fixIts)
    }

    public var file: SourceFile { primary.span.file }

    /// The same finding under another code, for a phase that knows better
    /// what a lower-level problem means in its context.
    public func recoded(_ code: DiagnosticCode) -> Diagnostic {
        var d = Diagnostic(code, message, at: primary, secondary: secondary, notes: notes, help: help, fixIts: fixIts)
        d.severity = severity == .error ? code.severity : severity
        return d
    }
}

/// Collects diagnostics across a phase, so that one run reports every
/// independent mistake instead of stopping at the first.
public struct DiagnosticSet: Sendable {
    public private(set) var diagnostics: [Diagnostic] = []

    public init() {}

    public mutating func add(_ d: Diagnostic) { diagnostics.append(d) }
    public mutating func add(contentsOf other: DiagnosticSet) { diagnostics += other.diagnostics }

    public var errorCount: Int { diagnostics.count { $0.severity == .error } }
    public var warningCount: Int { diagnostics.count { $0.severity == .warning } }
    public var hasErrors: Bool { errorCount > 0 }
    public var isEmpty: Bool { diagnostics.isEmpty }

    /// Warnings become errors (`--werror`).
    public mutating func promoteWarnings() {
        for i in diagnostics.indices where diagnostics[i].severity == .warning {
            diagnostics[i].severity = .error
        }
    }

    /// In source order within each file, files in the order they were first seen.
    public var sorted: [Diagnostic] {
        var fileOrder: [String: Int] = [:]
        for d in diagnostics where fileOrder[d.file.path] == nil { fileOrder[d.file.path] = fileOrder.count }
        return diagnostics.enumerated().sorted { a, b in
            let fa = fileOrder[a.element.file.path] ?? 0, fb = fileOrder[b.element.file.path] ?? 0
            if fa != fb { return fa < fb }
            let ra = a.element.primary.span.range.lowerBound, rb = b.element.primary.span.range.lowerBound
            if ra != rb { return ra < rb }
            return a.offset < b.offset
        }.map(\.element)
    }
}
