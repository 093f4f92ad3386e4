/// Names other frameworks give to Strata's ops, so that "unknown op" can
/// point a PyTorch, Keras or Darknet user at the right one even when the
/// spelling is too far off for edit distance.
extension Op {
    private static let aliases: [String: Op] = [
        "dense": .linear, "fc": .linear, "fully_connected": .linear, "connected": .linear,
        "conv": .conv2d, "convolutional": .conv2d, "convolution": .conv2d,
        "deconv": .convTranspose2d, "deconv2d": .convTranspose2d, "conv2d_transpose": .convTranspose2d,
        "conv2dtranspose": .convTranspose2d, "deconvolution": .convTranspose2d,
        "bn": .batchNorm, "batchnorm2d": .batchNorm, "batch_normalization": .batchNorm, "batchnormalization": .batchNorm,
        "maxpool": .maxPool2d, "max_pooling2d": .maxPool2d, "avgpool": .avgPool2d, "average_pooling2d": .avgPool2d,
        "globalaveragepooling2d": .globalAvgPool, "adaptive_avg_pool2d": .globalAvgPool, "avgpool_global": .globalAvgPool,
        "swish": .silu, "lrelu": .leakyRelu, "leaky": .leakyRelu, "leakyrelu": .leakyRelu,
        "cat": .concat, "concatenate": .concat, "route": .concat, "shortcut": .add, "sum": .add, "multiply": .mul,
        "view": .reshape, "transpose": .permute, "interpolate": .upsample, "upsampling2d": .upsample,
        "depth_to_space": .pixelShuffle, "subpixel": .pixelShuffle, "zero_pad": .pad, "zeropadding2d": .pad,
        "reflection_pad": .pad, "identity_dropout": .dropout, "logsoftmax": .logSoftmax,
    ]

    /// The op another framework means by `name`, if Strata has it under another name.
    public static func alias(_ name: String) -> Op? { aliases[name.lowercased()] }
}
