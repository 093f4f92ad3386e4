import Foundation
import CYAML
import StrataDiagnostics

/// Reads one YAML document from libyaml's event stream into a located node
/// tree. It is strict where libyaml is lenient: duplicate keys, alias bombs,
/// deep nesting, invalid UTF-8, tabs, empty files and several documents are
/// all errors. Most stop reading, since the tree past them is unknown or
/// partial; a duplicate key does not: the reader reports it, keeps the first
/// occurrence and goes on, so later independent mistakes are reported too.
public struct YAMLReader {
    /// Nodes a document may expand to, counting alias copies; a real spec has
    /// a few thousand, a "billion laughs" file billions.
    public static let maxNodes = 200_000
    /// Collections nested inside each other; a real spec nests below ten.
    public static let maxDepth = 64

    private let file: SourceFile

    public init(file: SourceFile) { self.file = file }

    /// The document's root node and the problems that did not stop reading,
    /// or the diagnostic that did (with any found before it).
    public func read() -> Result<(root: YAMLNode, problems: [Diagnostic]), Diagnostic> {
        if let bad = firstInvalidUTF8(file.bytes) {
            let span = SourceSpan(file: file, range: bad..<(bad + 1))
            return .failure(Diagnostic(
                .invalidUTF8, "the file is not valid UTF-8", at: span, label: "invalid byte 0x\(hex(file.bytes[bad]))",
                help: ["save the file as UTF-8"]))
        }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) != 0 else {
            return .failure(Diagnostic(.yamlSyntax, "libyaml could not start (out of memory)", at: emptySpan))
        }
        defer { yaml_parser_delete(&parser) }
        return file.bytes.withUnsafeBufferPointer { buffer in
            withUnsafeMutablePointer(to: &parser) { p in
                yaml_parser_set_input_string(p, buffer.baseAddress, buffer.count)
                yaml_parser_set_encoding(p, YAML_UTF8_ENCODING)
                var builder = Builder(file: file, parser: p)
                do {
                    let root = try builder.document()
                    return .success((root, builder.problems))
                } catch let d as Diagnostic {
                    return .failure(d)
                } catch {
                    return .failure(Diagnostic(.yamlSyntax, "\(error)", at: emptySpan))
                }
            }
        }
    }

    private var emptySpan: SourceSpan { SourceSpan(file: file, range: 0..<0) }
}

/// Pulls events and assembles nodes, with the anchors seen so far.
private struct Builder {
    let file: SourceFile
    var parser: UnsafeMutablePointer<yaml_parser_t>
    var anchors: [String: YAMLNode] = [:]
    var nodes = 0
    var problems: [Diagnostic] = []

    init(file: SourceFile, parser: UnsafeMutablePointer<yaml_parser_t>) {
        self.file = file
        self.parser = parser
    }

    /// An owned copy of one libyaml event, so no C memory outlives a call.
    enum Event {
        case streamStart, streamEnd, documentStart, documentEnd
        case scalar(String, YAMLNode.ScalarStyle, anchor: String?, tag: String?)
        case sequenceStart(anchor: String?, tag: String?), sequenceEnd
        case mappingStart(anchor: String?, tag: String?), mappingEnd
        case alias(String)
    }

    mutating func next() throws -> (Event, SourceSpan) {
        var event = yaml_event_t()
        guard yaml_parser_parse(parser, &event) != 0 else { throw libyamlFailure() }
        defer { yaml_event_delete(&event) }
        let span = self.span(event.start_mark, event.end_mark)
        func text(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            p.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
        }
        switch event.type {
        case YAML_STREAM_START_EVENT: return (.streamStart, span)
        case YAML_STREAM_END_EVENT: return (.streamEnd, span)
        case YAML_DOCUMENT_START_EVENT: return (.documentStart, span)
        case YAML_DOCUMENT_END_EVENT: return (.documentEnd, span)
        case YAML_SCALAR_EVENT:
            let s = event.data.scalar
            let value = s.value.map {
                String(decoding: UnsafeBufferPointer(start: $0, count: s.length), as: UTF8.self)
            } ?? ""
            let style: YAMLNode.ScalarStyle
            switch s.style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: style = .literal
            case YAML_FOLDED_SCALAR_STYLE: style = .folded
            default: style = .plain
            }
            return (.scalar(value, style, anchor: text(s.anchor), tag: text(s.tag)), span)
        case YAML_SEQUENCE_START_EVENT:
            let s = event.data.sequence_start
            return (.sequenceStart(anchor: text(s.anchor), tag: text(s.tag)), span)
        case YAML_SEQUENCE_END_EVENT: return (.sequenceEnd, span)
        case YAML_MAPPING_START_EVENT:
            let s = event.data.mapping_start
            return (.mappingStart(anchor: text(s.anchor), tag: text(s.tag)), span)
        case YAML_MAPPING_END_EVENT: return (.mappingEnd, span)
        case YAML_ALIAS_EVENT: return (.alias(text(event.data.alias.anchor) ?? ""), span)
        default: throw failure(.yamlSyntax, "unexpected YAML event", span)
        }
    }

    mutating func document() throws -> YAMLNode {
        guard case (.streamStart, _) = try next() else { throw failure(.yamlSyntax, "no YAML stream", emptySpan) }
        let (first, firstSpan) = try next()
        switch first {
        case .documentStart: break
        case .streamEnd:
            throw failure(.emptyFile, "the file is empty: a spec needs at least `strata: 1` and `name:`",
                          SourceSpan(file: file, range: 0..<0), help: ["start the file with `strata: 1`"])
        default: throw failure(.yamlSyntax, "expected a YAML document", firstSpan)
        }
        let (event, span) = try next()
        let root = try node(event, span, depth: 0)
        guard case (.documentEnd, _) = try next() else { throw failure(.yamlSyntax, "expected the document to end", span) }
        let (after, afterSpan) = try next()
        if case .documentStart = after {
            throw failure(.multipleDocuments, "the file holds more than one YAML document", afterSpan,
                          label: "a second document starts here",
                          help: ["a spec is one document: put each model in its own file"])
        }
        return root
    }

    mutating func node(_ event: Event, _ start: SourceSpan, depth: Int) throws -> YAMLNode {
        let result: YAMLNode
        let anchor: String?
        switch event {
        case .scalar(let value, let style, let a, let tag):
            anchor = a
            result = YAMLNode(.scalar(value, style), span: start, tag: resolve(tag))
        case .sequenceStart(let a, let tag):
            anchor = a
            try checkDepth(depth, start)
            var items: [YAMLNode] = []
            while true {
                let (e, s) = try next()
                if case .sequenceEnd = e {
                    result = YAMLNode(.sequence(items), span: join(start, s), tag: resolve(tag))
                    break
                }
                items.append(try node(e, s, depth: depth + 1))
            }
        case .mappingStart(let a, let tag):
            anchor = a
            try checkDepth(depth, start)
            var pairs: [YAMLPair] = []
            var merged: [YAMLPair] = []
            var mergeKey: YAMLNode?
            while true {
                let (e, s) = try next()
                if case .mappingEnd = e {
                    result = YAMLNode(.mapping(combine(pairs, merged)), span: join(start, s), tag: resolve(tag))
                    break
                }
                let key = try node(e, s, depth: depth + 1)
                let (ve, vs) = try next()
                let value = try node(ve, vs, depth: depth + 1)
                if key.plainScalar == "<<" {
                    if let first = mergeKey {
                        problems.append(failure(.duplicateKey, "duplicate merge key `<<`", key.span, label: "second merge",
                                                secondary: [Label(first.span, "first merge here")],
                                                help: ["merge several mappings with one key: `<<: [*a, *b]`"]))
                        continue
                    }
                    mergeKey = key
                    merged += try mergeSources(value)
                } else {
                    pairs.append(YAMLPair(key: key, value: value))
                }
            }
        case .alias(let name):
            guard let target = anchors[name] else {
                throw failure(.unknownAlias, "alias '*\(name)' refers to no anchor defined above it", start,
                              label: "unknown anchor", help: ["define `&\(name)` on a node before using `*\(name)`"])
            }
            nodes += target.size
            try checkBudget(start)
            return target
        default:
            throw failure(.yamlSyntax, "unexpected YAML structure", start)
        }
        nodes += 1
        try checkBudget(start)
        if let anchor { anchors[anchor] = result }
        return result
    }

    /// Explicit keys, with merged keys (`<<: *base`) filling in what they lack;
    /// a key repeated explicitly is an error, a merged key overridden is not.
    mutating func combine(_ pairs: [YAMLPair], _ merged: [YAMLPair]) -> [YAMLPair] {
        var seen: [String: YAMLNode] = [:]
        var result: [YAMLPair] = []
        for pair in pairs {
            if let k = pair.key.scalar {
                if let first = seen[k] {
                    problems.append(failure(.duplicateKey, "duplicate key '\(k)'", pair.key.span, label: "defined again here",
                                            secondary: [Label(first.span, "first defined here")],
                                            help: ["remove one of the two, or rename it"]))
                    continue
                }
                seen[k] = pair.key
            }
            result.append(pair)
        }
        for pair in merged {
            guard let k = pair.key.scalar, seen[k] == nil else { continue }
            seen[k] = pair.key
            result.append(pair)
        }
        return result
    }

    func mergeSources(_ value: YAMLNode) throws -> [YAMLPair] {
        if let pairs = value.mapping { return pairs }
        if let items = value.sequence, items.allSatisfy({ $0.mapping != nil }) {
            return items.flatMap { $0.mapping ?? [] }
        }
        throw failure(.badMerge, "a merge key `<<` takes a mapping or a list of mappings, found \(value.kindDescription)",
                      value.span, label: "not a mapping", help: ["write `<<: *anchor` where the anchor is on a mapping"])
    }

    func checkDepth(_ depth: Int, _ span: SourceSpan) throws {
        if depth >= YAMLReader.maxDepth {
            throw failure(.tooDeep, "the document nests more than \(YAMLReader.maxDepth) levels deep", span,
                          label: "level \(depth + 1) starts here")
        }
    }

    func checkBudget(_ span: SourceSpan) throws {
        if nodes > YAMLReader.maxNodes {
            throw failure(.aliasBomb, "aliases expand the document past \(YAMLReader.maxNodes) nodes", span,
                          label: "expansion passed the limit here",
                          notes: ["this is how a \"billion laughs\" file exhausts memory; Strata stops reading instead"])
        }
    }

    /// libyaml's own message, at its own position, with a clearer word for tabs.
    func libyamlFailure() -> Diagnostic {
        let p = parser.pointee
        let problem = p.problem.map { String(cString: $0) } ?? "malformed YAML"
        let mark = p.problem_mark
        let offset = file.offset(line: Int(mark.line) + 1, column: Int(mark.column) + 1)
        let span = SourceSpan(file: file, range: offset..<min(offset + 1, file.bytes.count))
        if offset < file.bytes.count && file.bytes[offset] == UInt8(ascii: "\t") {
            return failure(.tab, "a tab character where YAML needs spaces", span, label: "tab",
                           help: ["indent with spaces; YAML does not allow tabs in indentation"],
                           fixIts: [FixIt(span, "  ")])
        }
        var secondary: [Label] = []
        if let context = p.context.map({ String(cString: $0) }) {
            let m = p.context_mark
            let o = file.offset(line: Int(m.line) + 1, column: Int(m.column) + 1)
            secondary.append(Label(SourceSpan(file: file, range: o..<min(o + 1, file.bytes.count)), context))
        }
        var help: [String] = []
        var fixIts: [FixIt] = []
        if problem.hasPrefix("mapping values are not allowed"), let (line, word) = bareListItem(before: Int(mark.line) + 1) {
            let end = file.offset(line: line, column: 1) + file.lineText(line).utf8.count
            let lineEnd = SourceSpan(file: file, range: end..<end)
            help.append("`- \(word)` takes no keys; write `- \(word):` (with a colon) to give it `name`, `from` or attributes")
            fixIts.append(FixIt(lineEnd, ":"))
            let indent = file.lineText(line).prefix { $0 == " " }.count
            secondary.append(Label(SourceSpan(file: file, range: file.offset(line: line, column: indent + 1)..<end),
                                   "this list item has no colon"))
        }
        return failure(.yamlSyntax, "YAML syntax error: \(problem)", span, label: "the YAML parser stopped here",
                       secondary: secondary, help: help, fixIts: fixIts)
    }

    /// The nearest line above `line` that is a bare list item such as `- relu`.
    func bareListItem(before line: Int) -> (Int, String)? {
        var n = line - 1
        while n >= 1 {
            let text = file.lineText(n).trimmingCharacters(in: .whitespaces)
            if text.isEmpty || text.hasPrefix("#") { n -= 1; continue }
            guard text.hasPrefix("- ") else { return nil }
            let word = text.dropFirst(2).trimmingCharacters(in: .whitespaces)
            return SpecDecoder.isIdentifier(word) && file.lineText(n).hasSuffix(word) ? (n, word) : nil
        }
        return nil
    }

    func span(_ a: yaml_mark_t, _ b: yaml_mark_t) -> SourceSpan {
        let lo = file.offset(line: Int(a.line) + 1, column: Int(a.column) + 1)
        let hi = file.offset(line: Int(b.line) + 1, column: Int(b.column) + 1)
        return SourceSpan(file: file, range: lo..<max(lo, hi))
    }

    func join(_ a: SourceSpan, _ b: SourceSpan) -> SourceSpan {
        SourceSpan(file: file, range: a.range.lowerBound..<max(a.range.lowerBound, b.range.upperBound))
    }

    var emptySpan: SourceSpan { SourceSpan(file: file, range: 0..<0) }

    func resolve(_ tag: String?) -> String? {
        guard let tag else { return nil }
        return tag.hasPrefix("!!") ? "tag:yaml.org,2002:" + tag.dropFirst(2) : tag
    }

    func failure(_ code: DiagnosticCode, _ message: String, _ span: SourceSpan, label: String = "",
                 secondary: [Label] = [], notes: [String] = [], help: [String] = [], fixIts: [FixIt] = []) -> Diagnostic {
        Diagnostic(code, message, at: span, label: label, secondary: secondary, notes: notes, help: help, fixIts: fixIts)
    }
}

/// Byte offset of the first byte that does not start or continue a valid
/// UTF-8 sequence, or nil when the whole buffer is valid.
func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
    var decoder = UTF8()
    var iterator = bytes.makeIterator()
    var offset = 0
    while true {
        switch decoder.decode(&iterator) {
        case .scalarValue(let s): offset += UTF8.width(s)
        case .emptyInput: return nil
        case .error: return offset
        }
    }
}

func hex(_ b: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
}
