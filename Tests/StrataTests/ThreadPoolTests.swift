import StrataKernels
import Testing

/// The pool hands out jobs in guided shares: every job must run once, on any thread count.
@Suite struct ThreadPoolTests {
    @Test(arguments: [1, 2, 3])
    func everyJobRunsOnce(threads: Int) {
        let pool = ThreadPool(threads: threads)
        for count in [0, 1, 2, 3, 7, 16, 100, 192, 1001] {
            // Slots of their own, so that two workers never write one.
            let runs = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
            runs.initialize(repeating: 0, count: max(count, 1))
            defer { runs.deallocate() }
            let workers = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
            defer { workers.deallocate() }
            // Loops back to back, as a plan's steps run: a worker late from one must not take jobs of the next.
            for _ in 0..<20 {
                pool.parallelFor(count) { job, worker in
                    runs[job] += 1
                    workers[job] = worker
                }
            }
            let counts = Array(UnsafeBufferPointer(start: runs, count: count))
            #expect(counts.allSatisfy { $0 == 20 }, "\(count) jobs on \(threads) threads: \(counts.filter { $0 != 20 }.count) ran other than once per loop")
            #expect((0..<count).allSatisfy { (0..<threads).contains(workers[$0]) })
        }
    }
}
