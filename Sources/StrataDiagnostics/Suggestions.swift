/// "Did you mean" candidates by edit distance, the way rustc and clang pick them.
public enum Suggestions {
    /// The candidate closest to `word`, if it is close enough to be a likely
    /// typo: at most a third of the word's length in edits (at least one).
    public static func closest<S: Sequence>(to word: String, among candidates: S) -> String? where S.Element == String {
        let limit = max(1, word.count / 3)
        var best: (String, Int)?
        for c in candidates where c != word {
            let d = distance(word.lowercased(), c.lowercased())
            if d <= limit, best.map({ d < $0.1 }) ?? true { best = (c, d) }
        }
        return best?.0
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions
    /// and transpositions of neighbours each cost one.
    public static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }

    /// A "did you mean" help line and its fix-it, or nothing when no candidate is close.
    public static func didYouMean<S: Sequence>(_ word: String, at span: SourceSpan, among candidates: S)
        -> (help: [String], fixIts: [FixIt]) where S.Element == String
    {
        guard let best = closest(to: word, among: candidates) else { return ([], []) }
        return (["did you mean '\(best)'?"], [FixIt(span, best)])
    }
}
