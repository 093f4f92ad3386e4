import StrataIR

/// One rewrite: tries node `index`, and rewrites the graph and describes
/// what it did when it applies.
struct Rule: Sendable {
    let name: String
    let apply: @Sendable (inout Working, Int) -> String?
}

enum Rules {
    /// Ops that apply an epilogue to their results before storing them: the
    /// weighted layers in registers, instance and group norm in their
    /// normalizing pass (a style network's norm -> relu, norm -> add).
    static let producers: Set<Op> = [.conv1d, .conv2d, .convTranspose2d, .linear, .instanceNorm, .groupNorm]
    static let activations: Set<Op> = [.relu, .leakyRelu, .sigmoid, .tanh, .silu, .elu, .gelu, .prelu]

    static let all: [Rule] = [
        // dropout(x) -> x   (identity in inference)
        Rule(name: "drop-dropout") { w, i in
            guard let n = w.nodes[i], n.op == .dropout else { return nil }
            w.nodes[i] = nil
            w.replaceUses(of: n.output, with: n.inputs[0])
            return "dropout \(n.path) removed"
        },
        // scale(x, 1) -> x   (EDSR's res_scale defaults to 1)
        Rule(name: "drop-unit-scale") { w, i in
            guard let n = w.nodes[i], n.op == .scale, n.float("factor") == 1 else { return nil }
            w.nodes[i] = nil
            w.replaceUses(of: n.output, with: n.inputs[0])
            return "scale \(n.path) by 1 removed"
        },
        // batch_norm(conv(x)) -> conv(x) with the normalization in its epilogue (folded into the weights when run)
        Rule(name: "fold-batch-norm") { w, i in
            guard let n = w.nodes[i], n.op == .batchNorm, let p = fusable(w, n.inputs[0]) else { return nil }
            let prefix = n.parameters.first?.name.components(beforeLast: ".") ?? ""
            w.fuse(i, into: p, as: .batchNorm(prefix: prefix, eps: n.float("eps") ?? 1e-5, affine: n.bool("affine") ?? true))
            return "batch_norm \(n.path) into \(w.nodes[p]?.op.name ?? "") \(w.nodes[p]?.path ?? "")"
        },
        // act(conv(x)) -> conv(x) with act in its epilogue
        Rule(name: "fuse-activation") { w, i in
            guard let n = w.nodes[i], activations.contains(n.op), let p = fusable(w, n.inputs[0]) else { return nil }
            let prefix = n.parameters.first?.name.components(beforeLast: ".") ?? ""
            w.fuse(i, into: p, as: .activation(n.op, attributes: n.attributes, prefix: prefix))
            return "\(n.op.name) \(n.path) into \(w.nodes[p]?.op.name ?? "") \(w.nodes[p]?.path ?? "")"
        },
        // scale(conv(x), k) -> conv(x) with *k in its epilogue
        Rule(name: "fuse-scale") { w, i in
            guard let n = w.nodes[i], n.op == .scale, let p = fusable(w, n.inputs[0]) else { return nil }
            w.fuse(i, into: p, as: .scale(n.float("factor") ?? 1))
            return "scale \(n.path) into \(w.nodes[p]?.op.name ?? "") \(w.nodes[p]?.path ?? "")"
        },
        // add(conv(x), r) -> conv(x) with +r in its epilogue, when r is ready before the conv runs
        Rule(name: "fuse-residual-add") { w, i in
            guard let n = w.nodes[i], n.op == .add, n.inputs.count == 2 else { return nil }
            let candidates = n.inputs.indices.compactMap { k -> (Int, ValueID)? in
                guard let p = fusable(w, n.inputs[k]) else { return nil }
                let other = n.inputs[1 - k]
                let ready = w.producer(other).map { $0 < p } ?? true
                return ready && other != n.inputs[k] ? (p, other) : nil
            }
            guard let (p, other) = candidates.max(by: { $0.0 < $1.0 }) else { return nil }
            w.fuse(i, into: p, as: .add(other))
            return "add \(n.path) into \(w.nodes[p]?.op.name ?? "") \(w.nodes[p]?.path ?? "")"
        },
        // pixel_shuffle(conv(x)) -> conv(x) storing its result shuffled
        Rule(name: "fold-pixel-shuffle") { w, i in
            guard let n = w.nodes[i], n.op == .pixelShuffle, let p = fusable(w, n.inputs[0]),
                  w.nodes[p]?.op == .conv2d else { return nil }
            w.fuse(i, into: p, as: .pixelShuffle(n.int("factor") ?? 1))
            return "pixel_shuffle \(n.path) into the store of conv2d \(w.nodes[p]?.path ?? "")"
        },
        // a node nobody reads -> nothing
        Rule(name: "remove-dead") { w, i in
            guard let n = w.nodes[i], w.uses(n.output) == 0 else { return nil }
            w.nodes[i] = nil
            return "\(n.op.name) \(n.path) computes an unused value"
        },
    ]

    /// The node computing `v` when it can take an epilogue (one of `producers`)
    /// read only here, not a network output, not already storing shuffled.
    static func fusable(_ w: Working, _ v: ValueID) -> Int? {
        guard let p = w.producer(v), let node = w.nodes[p], producers.contains(node.op), w.uses(v) == 1, !w.isOutput(v),
              !node.epilogue.contains(where: { if case .pixelShuffle = $0 { return true } else { return false } }) else { return nil }
        return p
    }

    /// Why each op that could fuse did not, at the fixed point.
    static func missed(_ w: Working) -> [String] {
        var out: [String] = []
        for node in w.nodes.compactMap({ $0 }) {
            let fusing = node.op == .batchNorm || node.op == .scale || node.op == .pixelShuffle || node.op == .add || activations.contains(node.op)
            guard fusing else { continue }
            let reasons = node.inputs.map { v -> String in
                guard let p = w.producer(v), let producer = w.nodes[p] else { return "its input is a network input" }
                if !producers.contains(producer.op) { return "its input comes from \(producer.op.name) \(producer.path), not an op that takes an epilogue" }
                if w.isOutput(v) { return "\(producer.op.name) \(producer.path) is a network output" }
                if w.uses(v) > 1 { return "\(producer.op.name) \(producer.path) has \(w.uses(v)) readers" }
                if node.op == .pixelShuffle && producer.op != .conv2d { return "only conv2d stores shuffled" }
                return "\(producer.op.name) \(producer.path) already stores shuffled"
            }
            out.append("\(node.op.name) \(node.path) not fused: " + (node.op == .add && node.inputs.count == 2
                ? reasons.joined(separator: "; ") : reasons.first ?? ""))
        }
        return out
    }
}

extension String {
    /// The part before the last occurrence of `separator`, with it: `a.b.` for `a.b.c`.
    func components(beforeLast separator: Character) -> String {
        guard let i = lastIndex(of: separator) else { return "" }
        return String(self[...i])
    }
}
