// swift-tools-version:6.0
// The target list is the pipeline, in order: a target may depend only on
// targets above it (see docs/architecture.md).
import PackageDescription

// The kernels need vector FMA: without a CPU target every SIMD multiply-add
// becomes a libm call. x86-64-v3 (AVX2 and FMA, Haswell and later) runs on
// CPUs without AVX-512; arm64's baseline has FMA already. Debug builds
// optimize the kernels too, since the test suite runs whole models on them.
#if arch(x86_64)
let kernelFlags = ["-Xcc", "-march=x86-64-v3"]
#else
let kernelFlags: [String] = []
#endif

let package = Package(
    name: "Strata",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "strata", targets: ["strata"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"]), .brew(["libyaml"])]
        ),
        .systemLibrary(
            name: "CPNG",
            pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"]), .brew(["libpng"])]
        ),
        .target(name: "StrataDiagnostics"),
        .target(name: "StrataSymbolic"),
        .target(
            name: "StrataSyntax",
            dependencies: ["CYAML", "StrataDiagnostics", "StrataSymbolic"]
        ),
        .target(
            name: "StrataIR",
            dependencies: ["StrataDiagnostics", "StrataSymbolic"]
        ),
        .target(
            name: "StrataCheck",
            dependencies: ["StrataDiagnostics", "StrataSymbolic", "StrataSyntax", "StrataIR"]
        ),
        .target(name: "StrataOptimize", dependencies: ["StrataIR"]),
        // The AVX-512 tile loop is C: optimized in debug builds too, as the kernels are.
        .target(name: "CKernelSupport", cSettings: [.unsafeFlags(["-O2"], .when(configuration: .debug))]),
        .target(
            name: "StrataKernels",
            dependencies: ["CKernelSupport"],
            swiftSettings: [
                .unsafeFlags(kernelFlags + ["-O"], .when(configuration: .debug)),
                .unsafeFlags(kernelFlags, .when(configuration: .release)),
            ]
        ),
        .target(
            name: "StrataRuntime",
            dependencies: ["CPNG", "StrataSymbolic", "StrataIR", "StrataOptimize", "StrataKernels"]
        ),
        .target(
            name: "StrataExport",
            dependencies: [
                "StrataSymbolic", "StrataIR", "StrataKernels",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .target(
            name: "StrataDriver",
            dependencies: ["StrataDiagnostics", "StrataSymbolic", "StrataSyntax", "StrataIR", "StrataCheck", "StrataOptimize", "StrataRuntime", "StrataExport"]
        ),
        .executableTarget(
            name: "strata",
            dependencies: [
                "StrataDriver",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "StrataTests",
            dependencies: [
                "StrataDiagnostics", "StrataSymbolic", "StrataSyntax", "StrataIR", "StrataCheck", "StrataKernels",
                "StrataOptimize", "StrataRuntime", "StrataExport", "StrataDriver",
            ],
            exclude: ["Cases", "Goldens", "Fixtures"]
        ),
    ]
)
