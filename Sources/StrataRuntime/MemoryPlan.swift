/// Where each value lives in the plan's arena. Values share storage when
/// one is the other under another shape (an alias) or when a pointwise
/// kernel overwrites an input that nothing reads afterwards (in place);
/// storages whose lifetimes do not overlap share addresses, placed largest
/// first at the lowest offset that fits (the greedy-by-size scheme of
/// TFLite's arena planner).
struct MemoryPlan {
    struct Storage {
        var size: Int
        /// Step index of the first write (-1: a network input) and of the last read.
        var first: Int
        var last: Int
        var offset = 0
    }

    var storages: [Storage] = []
    /// The storage of each float value, by value index.
    var storageOf: [Int?]

    init(values: Int) {
        storageOf = [Int?](repeating: nil, count: values)
    }

    mutating func allocate(_ value: Int, size: Int, at step: Int) {
        storageOf[value] = storages.count
        storages.append(Storage(size: size, first: step, last: step))
    }

    mutating func share(_ value: Int, with other: Int) {
        storageOf[value] = storageOf[other]
    }

    /// Extends the storage of `value` to be read at `step`.
    mutating func read(_ value: Int, at step: Int) {
        if let s = storageOf[value] { storages[s].last = max(storages[s].last, step) }
    }

    /// Assigns offsets (in floats, 64-byte aligned); returns the arena size.
    mutating func place() -> Int {
        let align = 16
        var placed: [Int] = []
        var total = 0
        for s in storages.indices.sorted(by: { (storages[$0].size, $1) > (storages[$1].size, $0) }) {
            let mine = storages[s]
            let conflicts = placed.map { storages[$0] }
                .filter { $0.first <= mine.last && mine.first <= $0.last }
                .sorted { $0.offset < $1.offset }
            var offset = 0
            for other in conflicts where offset + mine.size > other.offset {
                offset = max(offset, (other.offset + other.size + align - 1) / align * align)
            }
            storages[s].offset = offset
            placed.append(s)
            total = max(total, offset + mine.size)
        }
        return total
    }
}
