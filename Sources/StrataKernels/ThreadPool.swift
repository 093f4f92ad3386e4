import Foundation

/// A persistent pool of worker threads for data-parallel loops. Workers
/// wait on a semaphore between jobs instead of being created per call, and
/// the calling thread works too, so a small loop costs a wake-up, not a
/// thread start. Each worker owns a scratch buffer that kernels pack into,
/// so no job allocates.
public final class ThreadPool: @unchecked Sendable {
    public let threads: Int
    private let start = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var next = 0
    private var count = 0
    private var body: ((Int, Int) -> Void)?
    private var scratch: [UnsafeMutablePointer<Float>]
    private var scratchCapacity = 0

    public init(threads: Int) {
        self.threads = max(1, threads)
        scratch = (0..<self.threads).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: 1) }
        for worker in 1..<self.threads {
            let t = Thread { [unowned self] in self.work(worker) }
            t.stackSize = 1 << 20
            t.start()
        }
    }

    deinit {
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
    /// threads; returns when all are done.
    public func parallelFor(_ count: Int, _ body: @escaping (_ job: Int, _ worker: Int) -> Void) {
        if threads == 1 || count <= 1 {
            for i in 0..<count { body(i, 0) }
            return
        }
        lock.lock()
        self.next = 0
        self.count = count
        self.body = body
        lock.unlock()
        for _ in 1..<threads { start.signal() }
        drain(0)
        for _ in 1..<threads { done.wait() }
        lock.lock()
        self.body = nil
        lock.unlock()
    }

    private func drain(_ worker: Int) {
        while true {
            lock.lock()
            let i = next
            next += 1
            let f = body
            let n = count
            lock.unlock()
            guard i < n, let f else { return }
            f(i, worker)
        }
    }

    private func work(_ worker: Int) {
        while true {
            start.wait()
            drain(worker)
            done.signal()
        }
    }
}
