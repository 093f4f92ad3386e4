/// What a `train:` section may say: the objectives with the networks each
/// binds, the losses and the optimizers with their settings and defaults.
public enum Objective: String, Sendable, CaseIterable {
    case classification
    case regression
    case gan
    case vae

    /// The keys naming the networks this objective trains.
    public var roles: [String] {
        switch self {
        case .classification, .regression: return ["network"]
        case .gan: return ["generator", "discriminator"]
        case .vae: return ["encoder", "decoder"]
        }
    }

    public var defaultLoss: String {
        switch self {
        case .classification: return "cross_entropy"
        case .regression: return "mse"
        case .gan: return "bce"
        case .vae: return "bce"
        }
    }
}

public enum TrainSchema {
    public static let keys = ["objective", "loss", "optimizer", "batch", "epochs"]
    public static let allRoles = ["network", "generator", "discriminator", "encoder", "decoder"]

    public static let losses = ["cross_entropy", "nll", "bce", "bce_with_logits", "mse", "l1", "smooth_l1"]

    /// One optimizer setting: its name, default, and how many numbers it takes.
    public struct Setting: Sendable {
        public let name: String
        public let defaults: [Double]
    }

    /// PyTorch's optimizers and defaults, so a spec means what torch.optim means.
    public static let optimizers: [(name: String, settings: [Setting])] = [
        ("sgd", [.init(name: "lr", defaults: [0.001]), .init(name: "momentum", defaults: [0]),
                 .init(name: "dampening", defaults: [0]), .init(name: "weight_decay", defaults: [0])]),
        ("adam", [.init(name: "lr", defaults: [0.001]), .init(name: "betas", defaults: [0.9, 0.999]),
                  .init(name: "eps", defaults: [1e-8]), .init(name: "weight_decay", defaults: [0])]),
        ("adamw", [.init(name: "lr", defaults: [0.001]), .init(name: "betas", defaults: [0.9, 0.999]),
                   .init(name: "eps", defaults: [1e-8]), .init(name: "weight_decay", defaults: [0.01])]),
        ("rmsprop", [.init(name: "lr", defaults: [0.01]), .init(name: "alpha", defaults: [0.99]),
                     .init(name: "eps", defaults: [1e-8]), .init(name: "momentum", defaults: [0]),
                     .init(name: "weight_decay", defaults: [0])]),
    ]
}
