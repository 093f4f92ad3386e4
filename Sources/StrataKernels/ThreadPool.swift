import Foundation

/// A persistent pool of worker threads for data-parallel loops. Workers
/// wait on a semaphore between jobs instead of being created per call, and
/// the calling thread works too, so a small loop costs a wake-up, not a
/// thread start.
public final class ThreadPool: @unchecked Sendable {
    public let threads: Int
    private let start = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var next = 0
    private var count = 0
    private var body: ((Int) -> Void)?

    public init(threads: Int) {
        self.threads = max(1, threads)
        for _ in 1..<self.threads {
            let t = Thread { [unowned self] in self.work() }
            t.stackSize = 1 << 20
            t.start()
        }
    }

    /// Calls `body(i)` for every i in 0..<count, spread over the threads;
    /// returns when all are done.
    public func parallelFor(_ count: Int, _ body: @escaping (Int) -> Void) {
        if threads == 1 || count <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        lock.lock()
        self.next = 0
        self.count = count
        self.body = body
        lock.unlock()
        for _ in 1..<threads { start.signal() }
        drain()
        for _ in 1..<threads { done.wait() }
        lock.lock()
        self.body = nil
        lock.unlock()
    }

    private func drain() {
        while true {
            lock.lock()
            let i = next
            next += 1
            let f = body
            let n = count
            lock.unlock()
            guard i < n, let f else { return }
            f(i)
        }
    }

    private func work() {
        while true {
            start.wait()
            drain()
            done.signal()
        }
    }
}
