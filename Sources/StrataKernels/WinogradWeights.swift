/// The weights of Winograd's forms, transformed and packed once at plan
/// time: U_ξ = G g Gᵀ for every r x r kernel g, at each of the α² positions
/// ξ, summed in Double, then packed for the GEMM (`PackedGEMM.pack`).
enum WinogradWeights {
    /// G, α x r, row-major.
    static func g(alpha: Int) -> [Double] {
        switch alpha {
        case 3: [1, 0, 1, 1, 0, 1]
        case 4: [1, 0, 0, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0, 0, 1]
        default: [-1.0 / 2, 0, 1.0 / 6, 1.0 / 6, 1.0 / 2, -1.0 / 2, -1.0 / 6, 1.0 / 3, 0, 1]
        }
    }

    /// U of each phase and position, phase-major: each an [o x k] matrix
    /// packed in blocks of `rows`, `size` floats. `weight(phase, o, k, a,
    /// b)`: tap (a, b) of the kernel from depth k to output channel o;
    /// `scale` multiplies output channel o's. None for a sketch. Inlined,
    /// so that `weight` is too (called, it doubled the time to plan the VAE
    /// decoder).
    @inline(__always)
    static func packed(alpha: Int, r: Int, phases: Int, o: Int, k: Int, scale: [Float]?, rows: Int, sketch: Bool,
                       weight: (Int, Int, Int, Int, Int) -> Double) -> (packed: [Float], size: Int) {
        guard !sketch else { return ([], 0) }
        let positions = alpha * alpha, gMatrix = g(alpha: alpha)
        let size = PackedGEMM.packedCount(m: o, k: k, rows: rows)
        var packed = [Float](repeating: 0, count: phases * positions * size)
        // Each position's U a line further along than o k floats: at o k apart (a power of two) the positions' lines
        // share one set of L1 and L2, and a kernel's α² stores missed both (the DCGAN generator planned at batch 32 in
        // 290 ms; 230 with the lines apart). Kernel by kernel, every position at once: position by position, a
        // transposed layer's [C, O] weights were read α² times a phase in strides of O kernels (60% of that plan).
        let pitch = o * k + 16
        var u = [Float](repeating: 0, count: positions * pitch)
        let kernel = UnsafeMutablePointer<Double>.allocate(capacity: r * r), gG = UnsafeMutablePointer<Double>.allocate(capacity: alpha * r)
        defer { (kernel.deallocate(), gG.deallocate()) }
        for phase in 0..<phases {
            u.withUnsafeMutableBufferPointer { u in
                for oc in 0..<o {
                    let s = Double(scale?[oc] ?? 1)
                    for kk in 0..<k {
                        for a in 0..<r {
                            for b in 0..<r { kernel[a * r + b] = weight(phase, oc, kk, a, b) }
                        }
                        for y in 0..<alpha {
                            for b in 0..<r {
                                var sum = 0.0
                                for a in 0..<r { sum += gMatrix[y * r + a] * kernel[a * r + b] }
                                gG[y * r + b] = sum
                            }
                        }
                        // Position ξ = (y, x): its U is `pitch` floats after ξ - 1's.
                        var at = oc * k + kk
                        for y in 0..<alpha {
                            for x in 0..<alpha {
                                var sum = 0.0
                                for b in 0..<r { sum += gG[y * r + b] * gMatrix[x * r + b] }
                                u[at] = Float(sum * s)
                                at += pitch
                            }
                        }
                    }
                }
            }
            u.withUnsafeBufferPointer { u in
                packed.withUnsafeMutableBufferPointer { packed in
                    for xi in 0..<positions {
                        PackedGEMM.pack(u.baseAddress! + xi * pitch, m: o, k: k, rows: rows,
                                        into: packed.baseAddress! + (phase * positions + xi) * size)
                    }
                }
            }
        }
        return (packed, size)
    }
}
