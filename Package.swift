// swift-tools-version:6.0
// Descent — a gradient-descent optimization service. The targets follow the layers of DESIGN.md:
// dependencies point down only, and each C library is imported by exactly one Swift module.
import PackageDescription

/// The request path's modules drop the run-time exclusivity checks in release builds: every access to a class's
/// stored property that might overlap another cost a call into the runtime and a thread-local lookup (~2% of a
/// served request's CPU, `perf` under `bench/http1.sh`). Debug builds keep them, and every test runs in one.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "Descent",
    products: [
        .executable(name: "descent", targets: ["descent"])
    ],
    targets: [
        // C libraries from Debian, as system-library targets.
        .systemLibrary(
            name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(
            name: "CNGHTTP2", pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),
        .systemLibrary(
            name: "COpenBLAS", providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        .systemLibrary(
            name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

        // The layers, bottom up.
        .target(name: "DescentLog"),
        .target(name: "DescentMath", dependencies: ["COpenBLAS"]),
        .target(name: "CDescentPOSIX"),
        .target(name: "DescentPOSIX", dependencies: ["CDescentPOSIX"]),
        .target(name: "DescentHTTP", swiftSettings: hotPath),
        .target(name: "DescentHTTP2", dependencies: ["DescentLog", "DescentHTTP", "CNGHTTP2"]),
        .target(
            name: "DescentServer",
            dependencies: ["DescentLog", "DescentPOSIX", "DescentHTTP", "DescentHTTP2"], swiftSettings: hotPath),
        .target(name: "DescentJSON"),
        .target(name: "DescentStorage", dependencies: ["CSQLite", "CCrypto"]),
        .target(
            name: "DescentJobs",
            dependencies: ["DescentLog", "DescentMath", "DescentStorage", "DescentJSON", "DescentPOSIX"]),
        .target(
            name: "DescentService",
            dependencies: [
                "DescentLog", "DescentPOSIX", "DescentHTTP", "DescentServer", "DescentJobs", "DescentStorage",
                "DescentHTTP2", "DescentMath", "DescentJSON",
            ],
            resources: [.embedInCode("openapi.yaml")]),
        .executableTarget(name: "descent", dependencies: ["DescentService"]),
        // The math benchmark of issue 3 (bench/math.sh builds it in release); not a product.
        .executableTarget(name: "descent-bench-math", dependencies: ["DescentMath"], path: "bench/math"),
        // The in-process ingest benchmark of issue 4 (bench/service.sh builds it in release); not a product.
        .executableTarget(
            name: "descent-bench-ingest",
            dependencies: ["DescentService", "DescentJobs", "DescentMath", "DescentStorage"], path: "bench/ingest"),

        // Test helpers shared by the test targets: child processes, curl, the built `descent`.
        .target(name: "DescentTestSupport", path: "Tests/DescentTestSupport"),

        // One test target per module.
        .testTarget(name: "DescentLogTests", dependencies: ["DescentLog"]),
        .testTarget(name: "DescentMathTests", dependencies: ["DescentMath"], exclude: ["Fixtures"]),
        .testTarget(name: "DescentPOSIXTests", dependencies: ["DescentPOSIX"]),
        .testTarget(name: "DescentHTTPTests", dependencies: ["DescentHTTP"]),
        .testTarget(name: "DescentHTTP2Tests", dependencies: ["DescentHTTP2", "DescentHTTP", "DescentLog"]),
        .testTarget(
            name: "DescentServerTests",
            dependencies: ["DescentServer", "DescentPOSIX", "DescentHTTP", "DescentTestSupport"]),
        .testTarget(name: "DescentStorageTests", dependencies: ["DescentStorage"]),
        .testTarget(name: "DescentJSONTests", dependencies: ["DescentJSON"]),
        .testTarget(name: "DescentJobsTests", dependencies: ["DescentJobs", "DescentJSON", "DescentMath"]),
        .testTarget(
            name: "DescentServiceTests",
            dependencies: [
                "DescentService", "DescentHTTP", "DescentLog", "DescentJobs", "DescentJSON", "DescentMath",
                "DescentTestSupport",
            ],
            exclude: ["Fixtures"]),
    ]
)
