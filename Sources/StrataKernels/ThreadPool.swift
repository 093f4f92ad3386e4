import Foundation
import Synchronization

/// A persistent pool of worker threads for data-parallel loops. Between
/// loops a worker spins for a while on the loop counter before it sleeps:
/// a network's layers follow each other every few tens of microseconds, and
/// waking a sleeping thread costs about as much. Jobs are claimed with an
/// atomic counter, and the calling thread works too. Each worker owns a
/// scratch buffer that kernels pack into, so no job allocates.
public final class ThreadPool: @unchecked Sendable {
    public let threads: Int
    private let crew = Crew()
    private var scratch: [UnsafeMutablePointer<Float>]
    private var scratchCapacity = 0

    public init(threads: Int) {
        self.threads = max(1, threads)
        scratch = (0..<self.threads).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: 1) }
        for worker in 1..<self.threads {
            // Workers hold the crew, not the pool, so the pool can go and tell them to stop.
            let t = Thread { [crew] in crew.work(worker) }
            t.stackSize = 1 << 20
            t.start()
        }
    }

    deinit {
        crew.stop()
        scratch.forEach { $0.deallocate() }
    }

    /// Makes every worker's scratch hold at least `floats` elements; call
    /// before `parallelFor`, never from inside it.
    public func reserveScratch(_ floats: Int) {
        guard floats > scratchCapacity else { return }
        for i in scratch.indices {
            scratch[i].deallocate()
            // 64-byte aligned, so packed panels start on a cache line.
            scratch[i] = UnsafeMutableRawPointer.allocate(byteCount: floats * 4, alignment: 64).bindMemory(to: Float.self, capacity: floats)
        }
        scratchCapacity = floats
    }

    /// The scratch buffer of worker `worker` (0 is the calling thread).
    public func scratch(_ worker: Int) -> UnsafeMutablePointer<Float> { scratch[worker] }

    /// Calls `body(i, worker)` for every i in 0..<count, spread over the
    /// threads; returns when all are done. Calls must not overlap.
    public func parallelFor(_ count: Int, _ body: @escaping (_ job: Int, _ worker: Int) -> Void) {
        if threads == 1 || count <= 1 {
            for i in 0..<count { body(i, 0) }
            return
        }
        crew.run(count, workers: threads - 1, body)
    }
}

/// What the calling thread and the workers share.
private final class Crew: @unchecked Sendable {
    /// Bumped once per loop, and once to stop; workers watch it.
    let generation = Atomic<Int>(0)
    let next = Atomic<Int>(0)
    let finished = Atomic<Int>(0)
    /// Guards `sleepers` and the sleep of workers that stopped spinning.
    let wake = NSCondition()
    var sleepers = 0
    var stopping = false
    var count = 0
    var threads = 1
    var body: ((Int, Int) -> Void)?
    /// About 100-200 µs of polling.
    static let spins = 100_000

    func run(_ count: Int, workers: Int, _ body: @escaping (Int, Int) -> Void) {
        self.count = count
        threads = workers + 1
        self.body = body
        next.store(0, ordering: .relaxed)
        finished.store(0, ordering: .relaxed)
        publish()
        drain(0)
        while finished.load(ordering: .acquiring) < workers {}
        self.body = nil
    }

    func stop() {
        stopping = true
        publish()
    }

    /// Starts a new generation: spinning workers see it, sleeping ones are woken.
    private func publish() {
        wake.lock()
        generation.wrappingAdd(1, ordering: .releasing)
        if sleepers > 0 { wake.broadcast() }
        wake.unlock()
    }

    private func drain(_ worker: Int) {
        guard let body else { return }
        var first = next.load(ordering: .relaxed)
        while first < count {
            // Guided: a share of what is left, down to one job at the end. Claimed one by one, LeNet's 192
            // planes of 28x28 to pool passed the counter's cache line between the cores more than they pooled.
            let take = max(1, (count - first) / (4 * threads))
            let (exchanged, original) = next.compareExchange(expected: first, desired: first + take, ordering: .relaxed)
            guard exchanged else {
                first = original
                continue
            }
            for i in first..<first + take { body(i, worker) }
            first = next.load(ordering: .relaxed)
        }
    }

    func work(_ worker: Int) {
        var seen = 0
        while true {
            var spun = 0
            while generation.load(ordering: .acquiring) == seen && spun < Self.spins { spun += 1 }
            if generation.load(ordering: .acquiring) == seen {
                wake.lock()
                while generation.load(ordering: .acquiring) == seen {
                    sleepers += 1
                    wake.wait()
                    sleepers -= 1
                }
                wake.unlock()
            }
            seen = generation.load(ordering: .acquiring)
            if stopping { return }
            drain(worker)
            finished.wrappingAdd(1, ordering: .releasing)
        }
    }
}
