// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "GameFlow",
    products: [
        .library(name: "GameFlow", targets: ["GameFlow"]),
        .executable(name: "gameflow", targets: ["gameflow"]),
        .executable(name: "gameflow-bench", targets: ["gameflow-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
        // `swift package generate-documentation --target GameFlow`: the DocC catalog in
        // Sources/GameFlow/GameFlow.docc (articles) and every public symbol's doc comment.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
    ],
    targets: [
        // GSL + OpenBLAS behind one thin shim. No pkgConfig on purpose: pkg-config's
        // `-lgslcblas` would come first on the link line and win over OpenBLAS.
        .systemLibrary(name: "CGSL", providers: [.apt(["libgsl-dev", "libopenblas-dev"])]),
        // zlib (gzipped IDX data files) and libpng (sample grids), each behind a thin shim.
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CPNG", providers: [.apt(["libpng-dev"])]),
        // ARPACK's implicitly restarted Arnoldi (matrix-free eigenvalues of large Jacobians).
        .systemLibrary(name: "CArpack", providers: [.apt(["libarpack2-dev"])]),
        // Small dense kernels for the MLPs (C, so one binary can carry an AVX2/FMA clone and a
        // baseline clone; Swift has no per-function CPU features).
        .target(name: "CKernels"),
        // SUNDIALS KINSOL (matrix-free Newton–Krylov) behind a small C interface; no pkgConfig
        // (Debian ships only CMake files). Its vector operations are our own optimised loops.
        .target(name: "CSundials", linkerSettings: [.linkedLibrary("sundials_kinsol")]),
        // Stamps the git commit into the library (`GameFlowVersion.commit`).
        .plugin(name: "VersionStamp", capability: .buildTool()),
        .target(
            name: "GameFlow",
            dependencies: ["CGSL", "CKernels", "CSundials", "CZlib", "CPNG", "CArpack", .product(name: "Numerics", package: "swift-numerics")],
            plugins: ["VersionStamp"]),
        .executableTarget(
            name: "gameflow",
            dependencies: ["GameFlow", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // Counts the calling thread's heap allocations: it defines malloc & co. in the executables
        // that link it (gameflow-bench, the tests), forwarding to glibc (`gameflow-bench allocations`).
        .target(name: "CAllocationCounter", path: "Benchmarks/AllocationCounter"),
        .target(
            name: "GameFlowBenchKit",
            dependencies: ["GameFlow", "CAllocationCounter", .product(name: "Numerics", package: "swift-numerics")],
            path: "Benchmarks/BenchKit"),
        .executableTarget(
            name: "gameflow-bench",
            dependencies: ["GameFlow", "GameFlowBenchKit", "CKernels",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Benchmarks/GameFlowBench"),
        // What both test targets share: running processes, reading SVG, closed forms.
        .target(name: "GameFlowTestSupport", dependencies: ["GameFlow"], path: "Tests/TestSupport"),
        // The fast suite: the library against theory (swift test --filter GameFlowTests).
        .testTarget(
            name: "GameFlowTests",
            dependencies: ["GameFlow", "GameFlowBenchKit", "GameFlowTestSupport", "CGSL", "CKernels",
                           .product(name: "Numerics", package: "swift-numerics")]),
        // The command-line contract and faults, run as processes (the gameflow executable).
        .testTarget(
            name: "GameFlowProcessTests",
            dependencies: ["GameFlow", "GameFlowTestSupport", "gameflow"]),
    ]
)
