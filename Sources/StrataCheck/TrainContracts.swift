import StrataDiagnostics
import StrataIR
import StrataSymbolic
import StrataSyntax

/// The contracts `train:` sets up between networks: what one network
/// produces, the other must accept.
enum TrainContracts {
    static func check(_ resolved: ResolvedSpec, graphs: [Graph], scope: DimScope) -> DiagnosticSet {
        var diagnostics = DiagnosticSet()
        guard let train = resolved.spec.train else { return diagnostics }
        func graph(_ role: String) -> Graph? { resolved.trainBindings[role].flatMap { n in graphs.first { $0.name == n } } }
        func decl(_ g: Graph) -> NetworkDecl? { resolved.networks.first { $0.decl.name.value == g.name }?.decl }
        /// Where a role is bound: the binding, or the objective when defaulted.
        func span(_ role: String) -> SourceSpan {
            train.bindings.first { $0.role.value == role }?.network.span ?? train.objective.span
        }
        func label(_ g: Graph, output name: String) -> Label? {
            decl(g)?.outputs.first { $0.name.value == name }.map { Label($0.name.span, "\(g.name) output \(name): \(describe(g, g.outputs.first { $0.name == name }?.value, scope))") }
        }
        func label(_ g: Graph, input name: String) -> Label? {
            decl(g)?.inputs.first { $0.name.value == name }.map { Label($0.name.span, "\(g.name) input \(name): \(describe(g, g.inputs.first { $0.name == name }?.value, scope))") }
        }
        /// The first axis that differs, with a counterexample; nil when the types agree.
        func mismatch(_ a: TensorType, _ b: TensorType) -> String? {
            if a.dtype != b.dtype { return "element types differ: \(a.dtype.rawValue) vs \(b.dtype.rawValue)" }
            if a.rank != b.rank { return "ranks differ: \(a.rank) vs \(b.rank)" }
            for i in 0..<a.rank {
                switch scope.proveEqual(a.shape[i], b.shape[i]) {
                case .proven: continue
                case .refuted(let c):
                    let at = c.binding.isEmpty ? "" : " (for \(c))"
                    return "axis \(i) differs: \(scope.describe(a.shape[i])) vs \(scope.describe(b.shape[i]))\(at)"
                case .unknown: continue
                }
            }
            return nil
        }

        switch train.objective.value {
        case .gan:
            guard let g = graph("generator"), let d = graph("discriminator"),
                  let out = g.outputs.first, let inp = d.inputs.first else { break }
            if let why = mismatch(g.type(out.value), d.type(inp.value)) {
                diagnostics.add(Diagnostic(.ganMismatch, "the generator's output '\(out.name)' does not fit the discriminator's input '\(inp.name)'",
                                           at: span("discriminator"), label: why,
                                           secondary: [label(g, output: out.name), label(d, input: inp.name)].compactMap { $0 },
                                           notes: ["the discriminator judges the generator's images, so its input must have their type"]))
            }
        case .vae:
            guard let e = graph("encoder"), let d = graph("decoder"), let z = d.inputs.first else { break }
            let missing = ["mu", "logvar"].filter { name in !e.outputs.contains { $0.name == name } }
            if !missing.isEmpty {
                let outputs = decl(e)?.outputs.map { Label($0.name.span, "encoder output '\($0.name.value)'") } ?? []
                diagnostics.add(Diagnostic(.vaeMismatch, "the encoder '\(e.name)' has no output named \(missing.map { "'\($0)'" }.joined(separator: " or "))",
                                           at: span("encoder"), label: "needs outputs mu and logvar", secondary: outputs,
                                           notes: ["a vae's encoder produces mu and logvar; the decoder reads mu + exp(logvar/2)*eps"],
                                           help: ["name the encoder's outputs `mu` and `logvar`"]))
            }
            // mu and logvar usually share their size, so one mistake is reported once.
            let misfits = ["mu", "logvar"].compactMap { name -> (String, String)? in
                guard let o = e.outputs.first(where: { $0.name == name }), let why = mismatch(e.type(o.value), d.type(z.value)) else { return nil }
                return (name, why)
            }
            if let first = misfits.first {
                diagnostics.add(Diagnostic(.vaeMismatch, "the encoder's \(misfits.map { "'\($0.0)'" }.joined(separator: " and ")) do\(misfits.count == 1 ? "es" : "") not fit the decoder's input '\(z.name)'",
                                           at: span("decoder"), label: first.1,
                                           secondary: misfits.compactMap { label(e, output: $0.0) } + [label(d, input: z.name)].compactMap { $0 }))
            }
            if let x = e.inputs.first, let y = d.outputs.first, let why = mismatch(d.type(y.value), e.type(x.value)) {
                diagnostics.add(Diagnostic(.vaeMismatch, "the decoder's output '\(y.name)' does not reconstruct the encoder's input '\(x.name)'",
                                           at: span("decoder"), label: why,
                                           secondary: [label(d, output: y.name), label(e, input: x.name)].compactMap { $0 }))
            }
        case .classification:
            guard let n = graph("network"), let out = n.outputs.first, let x = n.inputs.first else { break }
            let t = n.type(out.value), batch = n.type(x.value).shape.first
            var why: String?
            var help = "end the network with `flatten` and `linear: K`"
            if t.rank != 2 {
                why = "the output '\(out.name)' has rank \(t.rank)"
            } else if t.shape[1].constant == nil {
                why = "the class count \(scope.describe(t.shape[1])) is not a fixed number"
                help = "pool to a fixed size before the classifier"
            } else if let b = batch, !scope.proveEqual(t.shape[0], b).isProven {
                why = "the first axis \(scope.describe(t.shape[0])) is not the batch \(scope.describe(b))"
                help = "keep the batch axis first; reshape to [\(scope.describe(b)), K] if it moved"
            }
            if let why {
                diagnostics.add(Diagnostic(.classifierShape, "a classifier must end in [N, K] logits, but \(why)",
                                           at: span("network"), label: "not [N, K]",
                                           secondary: [label(n, output: out.name)].compactMap { $0 },
                                           help: [help]))
            }
        case .regression:
            break
        }
        return diagnostics
    }

    private static func describe(_ g: Graph, _ v: ValueID?, _ scope: DimScope) -> String {
        v.map { g.type($0).display(scope) } ?? "?"
    }
}
