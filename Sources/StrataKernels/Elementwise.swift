import Foundation

/// Reference elementwise combinations of values of equal shape.
public enum Elementwise {
    public static func sum(_ xs: [Tensor]) -> Tensor {
        var y = xs[0]
        for x in xs.dropFirst() { for i in 0..<y.count { y.data[i] += x.data[i] } }
        return y
    }

    public static func product(_ xs: [Tensor]) -> Tensor {
        var y = xs[0]
        for x in xs.dropFirst() { for i in 0..<y.count { y.data[i] *= x.data[i] } }
        return y
    }

    public static func scale(_ x: Tensor, by factor: Double) -> Tensor {
        Tensor(shape: x.shape, data: x.data.map { Float(Double($0) * factor) })
    }

    /// z = mu + exp(logvar/2) * eps, the VAE's reparameterization.
    public static func reparameterize(mu: Tensor, logvar: Tensor, eps: Tensor) -> Tensor {
        var z = mu
        for i in 0..<z.count {
            z.data[i] = Float(Double(mu.data[i]) + Foundation.exp(Double(logvar.data[i]) / 2) * Double(eps.data[i]))
        }
        return z
    }
}
