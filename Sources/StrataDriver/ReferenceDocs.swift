import StrataCheck
import StrataDiagnostics
import StrataIR
import StrataSyntax

/// The generated reference pages in docs/: the op reference from the op
/// catalog and the diagnostic list from the phases' code tables. A test
/// fails when the committed pages differ from what these produce.
public enum ReferenceDocs {
    /// Every diagnostic code, in the order the phases run.
    public static var allCodes: [DiagnosticCode] {
        DiagnosticCode.syntaxCodes + DiagnosticCode.checkCodes + DiagnosticCode.shapeCodes
    }

    public static func opReference() -> String {
        var out = """
            # Op reference

            <!-- Generated from the op catalog (Sources/StrataIR/OpCatalog.swift); do not edit.
                 Regenerate with `STRATA_RECORD=1 swift test`. -->

            Every op a layer entry can name, with its attributes. A layer entry gives
            attributes as a mapping (`- conv2d: {out: 64, kernel: 3}`), or sets the op's
            *primary* attribute with a bare value (`- leaky_relu: 0.2`). Integer
            attributes take expressions over params and dims (`ngf*8`, `H//2`); float
            attributes take a number or a param name. Shapes follow PyTorch: NCHW, and
            PyTorch's output-size formulas.

            | op | primary | inputs | shapes | summary |
            | --- | --- | --- | --- | --- |

            """
        for spec in Op.catalog {
            out += "| [`\(spec.op.name)`](#\(spec.op.name)) | \(spec.primary.map { "`\($0)`" } ?? "—") | \(spec.arity.description) | \(spec.signature) | \(spec.summary) |\n"
        }
        for spec in Op.catalog {
            out += "\n## \(spec.op.name)\n\n\(spec.summary).\n\n"
            out += "- shapes: `\(spec.signature)`\n- inputs: \(spec.arity.description)\n"
            out += "- primary attribute: \(spec.primary.map { "`\($0)`" } ?? "none")\n"
            if spec.attributes.isEmpty {
                out += "\nNo attributes: write `- \(spec.op.name)`.\n"
                continue
            }
            out += "\n| attribute | takes | default | meaning |\n| --- | --- | --- | --- |\n"
            for a in spec.attributes {
                out += "| `\(a.name)` | \(a.type.description) | \(a.defaultValue.description) | \(a.doc) |\n"
            }
        }
        return out
    }

    public static func diagnosticReference() -> String {
        var out = """
            # Diagnostic codes

            <!-- Generated from the phases' code tables; do not edit.
                 Regenerate with `STRATA_RECORD=1 swift test`. -->

            Every diagnostic `strata` reports has a stable code. A code never changes
            meaning once released; new mistakes get new codes. Each diagnostic names
            the file, line and column at fault, shows the source line with a caret,
            and says what was expected and what was found.

            | range | phase |
            | --- | --- |
            | E1xx | YAML: the file is not well-formed YAML, or uses YAML that Strata refuses |
            | E2xx | structure: keys, kinds of values, names |
            | E3xx | expressions |
            | E4xx | names: ops, attributes, values, blocks, outputs, `train` bindings |
            | W4xx | warnings about names; `--werror` makes them errors |
            | E5xx | shapes and types of values, proven for every size the dims allow |
            | E6xx | contracts between networks set up by `train:` |
            | W5xx | shape facts that could be neither proven nor refuted |

            | code | severity | meaning |
            | --- | --- | --- |

            """
        for code in allCodes {
            out += "| \(code.id) | \(code.severity.rawValue) | \(code.title) |\n"
        }
        return out
    }
}
