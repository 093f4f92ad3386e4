import StrataDiagnostics
import StrataIR
import StrataSyntax

/// Reads one attribute's YAML value according to the type the op catalog
/// gives it, and checks the names its expressions use.
struct AttributeReader {
    let scope: ExpressionScope

    func read(_ node: YAMLNode, as spec: AttributeSpec, of op: Op, into diagnostics: inout DiagnosticSet) -> AttributeValue? {
        let what = "`\(spec.name)` of \(op.name)"
        switch spec.type {
        case .int:
            return expression(node, what: what, into: &diagnostics).map(AttributeValue.int)
        case .perAxis(let n):
            return perAxis(node, n, what: what, into: &diagnostics)
        case .padding(let n):
            if node.plainScalar == "same" { return .same }
            if node.plainScalar == "valid" { return .valid }
            if let word = node.plainScalar, scope.names[word] == nil,
               let near = Suggestions.closest(to: word, among: ["same", "valid"]) {
                diagnostics.add(Diagnostic(.badAttribute, "\(what) takes \(spec.type.description), found '\(word)'",
                                           at: node.span, label: "not a padding", help: ["did you mean '\(near)'?"],
                                           fixIts: [FixIt(node.span, near)]))
                return nil
            }
            return perAxis(node, n, what: what, extra: ", `same` or `valid`", into: &diagnostics)
        case .float:
            guard let f = SpecDecoder.float(node) else {
                return fail(node, "\(what) takes a number, found \(node.kindDescription)", "expected a number", &diagnostics)
            }
            return scope.check(f, at: node.span, into: &diagnostics) ? .float(f) : nil
        case .bool:
            switch node.plainScalar {
            case "true", "True", "TRUE": return .bool(true)
            case "false", "False", "FALSE": return .bool(false)
            case let word? where ["yes", "no", "on", "off", "y", "n"].contains(word.lowercased()):
                let meant = ["yes", "on", "y"].contains(word.lowercased()) ? "true" : "false"
                diagnostics.add(Diagnostic(.badAttribute, "\(what) takes true or false, found '\(word)'", at: node.span,
                                           label: "expected true or false",
                                           notes: ["YAML 1.1 read '\(word)' as a boolean; Strata follows YAML 1.2, where it is a string"],
                                           help: ["write `\(meant)`"], fixIts: [FixIt(node.span, meant)]))
                return nil
            default:
                return fail(node, "\(what) takes true or false, found \(node.kindDescription)", "expected true or false", &diagnostics)
            }
        case .choice(let choices):
            guard let s = node.scalar, choices.contains(s) else {
                let s = Suggestions.didYouMean(node.scalar ?? "", at: node.span, among: choices)
                diagnostics.add(Diagnostic(.badChoice, "\(what) takes \(spec.type.description), found \(node.kindDescription)",
                                           at: node.span, label: "not a valid choice", help: s.help, fixIts: s.fixIts))
                return nil
            }
            return .choice(s)
        case .shape:
            guard let items = node.sequence, !items.isEmpty else {
                return fail(node, "\(what) takes a list of dimensions, found \(node.kindDescription)",
                            "expected a list such as [N, 64, 4, 4]", &diagnostics)
            }
            let dims = items.compactMap { expression($0, what: "a dimension", into: &diagnostics) }
            guard dims.count == items.count else { return nil }
            let inferred = dims.filter { $0.constant == -1 }
            if inferred.count > 1 {
                diagnostics.add(Diagnostic(.badAttribute, "\(what) may infer one dimension with -1, found \(inferred.count)",
                                           at: inferred[1].span, label: "second -1",
                                           secondary: [Label(inferred[0].span, "first -1")],
                                           help: ["write all but one dimension explicitly"]))
                return nil
            }
            return .shape(dims)
        case .axes:
            guard let items = node.sequence, !items.isEmpty else {
                return fail(node, "\(what) takes a list of axis indices, found \(node.kindDescription)",
                            "expected a list such as [0, 2, 3, 1]", &diagnostics)
            }
            var axes: [Int] = []
            for item in items {
                guard let a = item.plainScalar.flatMap({ Int($0) }) else {
                    return fail(item, "an axis index must be an integer, found \(item.kindDescription)", "expected an integer", &diagnostics)
                }
                if let i = axes.firstIndex(of: a) {
                    diagnostics.add(Diagnostic(.badAttribute, "axis \(a) appears twice in \(what)", at: item.span,
                                               label: "repeated", secondary: [Label(items[i].span, "first here")],
                                               help: ["a permutation names each axis once"]))
                    return nil
                }
                axes.append(a)
            }
            return .axes(axes)
        case .padAmount:
            guard let items = node.sequence else {
                return expression(node, what: what, into: &diagnostics).map { .ints([$0]) }
            }
            guard [1, 2, 4].contains(items.count) else {
                return fail(node, "\(what) takes an int, [h, w] or [top, bottom, left, right], found \(items.count) values",
                            "expected 1, 2 or 4 values", &diagnostics)
            }
            let values = items.compactMap { expression($0, what: "a padding amount", into: &diagnostics) }
            return values.count == items.count ? .ints(values) : nil
        }
    }

    private func perAxis(_ node: YAMLNode, _ n: Int, what: String, extra: String = "",
                         into diagnostics: inout DiagnosticSet) -> AttributeValue? {
        guard let items = node.sequence else {
            return expression(node, what: what, extra: extra, into: &diagnostics).map { .ints(Array(repeating: $0, count: n)) }
        }
        guard items.count == n else {
            let expected = n == 1 ? "one value" : "one value or a list of \(n)"
            return fail(node, "\(what) takes \(expected), found a list of \(items.count)", "expected \(n == 1 ? "1" : "1 or \(n)") values",
                        &diagnostics, help: n == 1 ? ["write a single number"] : [])
        }
        let values = items.compactMap { expression($0, what: what, into: &diagnostics) }
        return values.count == n ? .ints(values) : nil
    }

    private func expression(_ node: YAMLNode, what: String, extra: String = "", into diagnostics: inout DiagnosticSet) -> ExprSyntax? {
        switch ExprParser.parse(node, what: "an integer expression\(extra) for \(what)") {
        case .success(let e): return scope.check(e, into: &diagnostics) ? e : nil
        case .failure(let d):
            // A value of the wrong kind is, here, an attribute of the wrong kind.
            diagnostics.add(d.code == .wrongType ? d.recoded(.badAttribute) : d)
            return nil
        }
    }

    private func fail(_ node: YAMLNode, _ message: String, _ label: String, _ diagnostics: inout DiagnosticSet,
                      help: [String] = []) -> AttributeValue? {
        diagnostics.add(Diagnostic(.badAttribute, message, at: node.span, label: label, help: help))
        return nil
    }
}
