import StrataDiagnostics
import StrataSymbolic
import StrataSyntax
import Testing

@Suite struct ExpressionTests {
    static func parse(_ text: String) -> Result<ExprSyntax, Diagnostic> {
        let file = SourceFile(path: "e.yaml", text: "v: \(text)\n")
        guard case .success(let r) = YAMLReader(file: file).read(), let node = r.root.mapping?.first?.value else {
            return .failure(Diagnostic(.yamlSyntax, "not YAML", at: SourceSpan(file: file, range: 0..<0)))
        }
        return ExprParser.parse(node)
    }

    @Test(arguments: [
        ("ngf*8", "ngf*8"), ("H//2 - 1", "H//2 - 1"), ("(a + b)*c", "(a + b)*c"), ("a - (b - c)", "a - (b - c)"),
        ("a - b - c", "a - b - c"), ("-x*2", "-x*2"), ("7*7*128", "7*7*128"), ("a/b/c", "a/b/c"), ("a/(b*c)", "a/(b*c)"),
        ("((H))", "H"), ("a % 4", "a%4"),
    ])
    func parsesAndPrints(_ input: String, _ printed: String) throws {
        let e = try Self.parse(input).get()
        #expect(e.expr.description == printed)
    }

    @Test(arguments: [
        ("(ngf*2", "E301", 10), ("ngf)", "E301", 7), ("ngf*", "E301", 7), ("2H", "E301", 4), ("a $ b", "E301", 6),
        ("99999999999999999999", "E302", 4), ("a +* b", "E301", 7),
    ])
    func reportsErrorsAtTheToken(_ input: String, _ code: String, _ column: Int) {
        guard case .failure(let d) = Self.parse(input) else {
            Issue.record("\(input) parsed")
            return
        }
        #expect(d.code.id == code)
        #expect(d.primary.span.start.column == column, "\(input): \(d.message)")
    }

    @Test func precedenceMatchesTheGrammar() throws {
        let e = try Self.parse("1 + 2*3 - 8//3 % 2").get().expr
        #expect(try e.evaluate([:]).get() == 1 + 6 - (8 / 3) % 2)
    }
}

@Suite struct EvaluationTests {
    @Test func floorDivisionAndRemainderRoundDown() {
        #expect(DimExpr.apply(.floorDivide, -7, 2) == .success(-4))
        #expect(DimExpr.apply(.remainder, -7, 2) == .success(1))
        #expect(DimExpr.apply(.floorDivide, 7, -2) == .success(-4))
        #expect(DimExpr.apply(.remainder, 7, -2) == .success(-1))
        #expect(DimExpr.apply(.exactDivide, 7, 2) == .failure(.inexactDivision(7, 2)))
        #expect(DimExpr.apply(.exactDivide, 8, 0) == .failure(.divisionByZero))
        #expect(DimExpr.apply(.multiply, Int.max, 2) == .failure(.overflow))
        #expect(DimExpr.apply(.floorDivide, Int.min, -1) == .failure(.overflow))
    }

    @Test func floorIdentityHoldsOnRandomValues() {
        var rng = SplitMix64(state: 1)
        for _ in 0..<10_000 {
            let a = Int.random(in: -1000...1000, using: &rng), b = Int.random(in: -50...50, using: &rng)
            guard b != 0, case .success(let q) = DimExpr.apply(.floorDivide, a, b),
                  case .success(let r) = DimExpr.apply(.remainder, a, b) else { continue }
            #expect(q * b + r == a)
            #expect(r == 0 || (r < 0) == (b < 0))
        }
    }
}

@Suite struct SourceFileTests {
    @Test func locationsCountCharactersNotBytes() {
        let f = SourceFile(path: "u.yaml", text: "a: é\nname: ü: x\n")
        #expect(f.location(of: 0) == SourceLocation(line: 1, column: 1))
        let offset = Array("a: é\nname: ü".utf8).count
        #expect(f.location(of: offset) == SourceLocation(line: 2, column: 8))
        #expect(f.offset(line: 2, column: 8) == offset)
        #expect(f.lineText(2) == "name: ü: x")
    }

    @Test func crlfLinesPrintWithoutCarriageReturns() {
        let f = SourceFile(path: "w.yaml", text: "a: 1\r\nb: 2\r\n")
        #expect(f.lineText(1) == "a: 1")
        #expect(f.location(of: 6) == SourceLocation(line: 2, column: 1))
    }
}

@Suite struct SuggestionTests {
    @Test func closeTyposAreSuggested() {
        #expect(Suggestions.closest(to: "kernal", among: ["kernel", "stride"]) == "kernel")
        #expect(Suggestions.closest(to: "maxpool2d", among: ["max_pool2d", "avg_pool2d"]) == "max_pool2d")
        #expect(Suggestions.closest(to: "ouptut", among: ["output"]) == "output")
        #expect(Suggestions.closest(to: "strdie", among: ["stride"]) == "stride")
    }

    @Test func distantWordsAreNot() {
        #expect(Suggestions.closest(to: "foo", among: ["kernel", "stride"]) == nil)
        #expect(Suggestions.closest(to: "x", among: ["y"]) == "y")
        #expect(Suggestions.distance("ab", "ba") == 1)
    }
}

@Suite struct YAMLReaderTests {
    static func read(_ text: String) -> Result<YAMLNode, Diagnostic> {
        YAMLReader(file: SourceFile(path: "t.yaml", text: text)).read().flatMap { r in
            r.problems.first.map { .failure($0) } ?? .success(r.root)
        }
    }

    @Test func nodesCarryTheirSpans() throws {
        let root = try Self.read("a:\n  b: [1, two]\n").get()
        let b = try #require(root.mapping?.first?.value.mapping?.first)
        #expect(b.key.span.start == SourceLocation(line: 2, column: 3))
        #expect(b.value.sequence?[1].span.start == SourceLocation(line: 2, column: 10))
        #expect(b.value.sequence?[1].span.text == "two")
    }

    @Test func mergeKeysFillInWithoutOverriding() throws {
        let root = try Self.read("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n").get()
        let use = try #require(root.mapping?[1].value.mapping)
        #expect(use.map { $0.key.scalar ?? "" } == ["y", "x"])
        #expect(use[0].value.scalar == "3")
    }

    @Test func duplicateKeysPointAtTheSecondWithTheFirstAsLabel() {
        guard case .failure(let d) = Self.read("a: 1\nb: 2\na: 3\n") else {
            Issue.record("accepted a duplicate key")
            return
        }
        #expect(d.code.id == "E102")
        #expect(d.primary.span.start == SourceLocation(line: 3, column: 1))
        #expect(d.secondary.first?.span.start == SourceLocation(line: 1, column: 1))
    }

    @Test(arguments: [("", "E107"), ("# only a comment\n", "E107"), ("a: 1\n---\nb: 2\n", "E108"),
                      ("a:\n\tb: 1\n", "E106"), ("a: *nothing\n", "E109"), ("a: [1, 2\n", "E101"),
                      ("a: 1\n<<: 5\n", "E110")])
    func malformedInputsAreRefused(_ text: String, _ code: String) {
        guard case .failure(let d) = Self.read(text) else {
            Issue.record("accepted \(text.debugDescription)")
            return
        }
        #expect(d.code.id == code, "\(text.debugDescription): \(d.message)")
    }

    @Test func invalidUTF8IsLocated() {
        let file = SourceFile(path: "b.yaml", bytes: Array("a: 1\nb: ".utf8) + [0xC3, 0x28] + Array("\n".utf8))
        guard case .failure(let d) = YAMLReader(file: file).read() else {
            Issue.record("accepted invalid UTF-8")
            return
        }
        #expect(d.code.id == "E105")
        #expect(d.primary.span.start == SourceLocation(line: 2, column: 4))
    }
}

@Suite struct NumberTests {
    @Test(arguments: [("0.2", 0.2), ("1e-5", 1e-5), ("-1.5E+3", -1500), (".5", 0.5), ("2.", 2.0), ("3e2", 300)])
    func decimalFloats(_ text: String, _ value: Double) {
        #expect(ExprParser.floatLiteral(text) == value)
    }

    @Test(arguments: ["12", "0xE", "0x1p3", "1e", "e5", "1.2.3", "nan", "inf", "1e400", "", "-", "1_0.5"])
    func notFloats(_ text: String) {
        #expect(ExprParser.floatLiteral(text) == nil)
    }
}
