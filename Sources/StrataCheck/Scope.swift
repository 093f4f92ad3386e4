import StrataDiagnostics
import StrataSyntax

/// The names an expression may use at one place in a spec: params and dims
/// everywhere, and a block's parameters inside it.
struct ExpressionScope {
    enum Kind {
        case intParam, floatParam, dim
        /// A block parameter whose kind is fixed only by each call.
        case blockParam
    }

    var names: [String: Kind] = [:]
    /// Params declared later in the file, to explain a forward reference.
    var later: Set<String> = []

    /// Where an expression must not vary with the input size, and the code
    /// to report a dim there with.
    struct Constant {
        let what: String
        let code: DiagnosticCode
        static let repeatCount = Constant(what: "`repeat`", code: .badRepeat)
        static let dimConstraint = Constant(what: "a dim constraint", code: .unknownName)
        static let training = Constant(what: "a training setting", code: .unknownName)
    }

    /// Reports every name in `expr` that is not in scope or is not an integer.
    /// `constant` forbids dims, for places that must not vary with input size.
    func check(_ expr: ExprSyntax, constant: Constant? = nil, into diagnostics: inout DiagnosticSet) -> Bool {
        var ok = true
        for (name, span) in expr.names {
            switch names[name] {
            case nil:
                ok = false
                if later.contains(name) {
                    diagnostics.add(Diagnostic(.unknownName, "param '\(name)' is used before it is declared", at: span,
                                               label: "declared further down", help: ["declare '\(name)' above the param that uses it"]))
                } else {
                    let s = Suggestions.didYouMean(name, at: span, among: names.keys.sorted())
                    diagnostics.add(Diagnostic(.unknownName, "unknown name '\(name)' in expression", at: span,
                                               label: "not a param, dim or block parameter", help: s.help, fixIts: s.fixIts))
                }
            case .floatParam:
                ok = false
                diagnostics.add(Diagnostic(.badAttribute, "param '\(name)' holds a float where an integer is expected",
                                           at: span, label: "float param", help: ["use an integer param here"]))
            case .dim where constant != nil:
                ok = false
                let c = constant ?? .repeatCount
                diagnostics.add(Diagnostic(c.code, "\(c.what) must be a constant, but '\(name)' is a dim", at: span,
                                           label: "varies with the input size", help: ["use a number or a param"]))
            case .intParam, .dim, .blockParam:
                break
            }
        }
        return ok
    }

    /// Reports a float's param name that is not in scope or is a dim.
    func check(_ value: FloatSyntax, at span: SourceSpan, into diagnostics: inout DiagnosticSet) -> Bool {
        guard case .name(let name) = value else { return true }
        switch names[name] {
        case nil:
            let s = Suggestions.didYouMean(name, at: span, among: names.keys.sorted())
            diagnostics.add(Diagnostic(.unknownName, "unknown name '\(name)' where a number is expected", at: span,
                                       label: "not a number or a param", help: s.help, fixIts: s.fixIts))
            return false
        case .dim:
            diagnostics.add(Diagnostic(.badAttribute, "'\(name)' is a dim; a float attribute takes a number or a param",
                                       at: span, label: "dim"))
            return false
        case .intParam, .floatParam, .blockParam:
            return true
        }
    }
}
