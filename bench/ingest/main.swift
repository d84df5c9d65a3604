// descent-bench-ingest — the dataset ingest step in process, without HTTP: each phase of an upload timed on
// bytes already in memory, then the whole step as the service runs it (`DatasetUpload.parse`: the hash beside
// the parse), against a plain copy of the same bytes into fresh memory. bench/service.sh runs it next to the
// end-to-end HTTP figures.
//
// Usage: descent-bench-ingest FILE.npy|FILE.json [ROUNDS]     Prints one line per phase and a RESULT line.
import DescentJobs
import DescentMath
import DescentService
import DescentStorage
import Foundation

let arguments = CommandLine.arguments
guard arguments.count >= 2, let data = FileManager.default.contents(atPath: arguments[1]) else {
    FileHandle.standardError.write(Data("usage: descent-bench-ingest FILE.npy|FILE.json [ROUNDS]\n".utf8))
    exit(2)
}
let rounds = arguments.count > 2 ? Int(arguments[2]) ?? 5 : 5
let bytes = [UInt8](data)
let isJSON = arguments[1].hasSuffix(".json")
let megabytes = Double(bytes.count) / 1e6

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// The median wall time of `body` over `rounds` runs, in seconds.
func time(_ body: () throws -> Void) rethrows -> Double {
    var times: [Double] = []
    for _ in 0..<rounds {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return median(times)
}

var sink = 0
// The anchor: a plain copy into fresh memory, given the same huge-page advice numpy gives its large arrays
// (and FeatureStorage its buffers), so that the copy is the fastest a fresh buffer can be filled.
let copy = time {
    var raw: UnsafeMutableRawPointer?
    guard posix_memalign(&raw, 2 << 20, bytes.count) == 0, let destination = raw else { fatalError("out of memory") }
    _ = madvise(destination, bytes.count & ~((2 << 20) - 1), MADV_HUGEPAGE)
    _ = bytes.withUnsafeBytes { memcpy(destination, $0.baseAddress!, bytes.count) }
    sink &+= Int(destination.load(fromByteOffset: bytes.count / 2, as: UInt8.self))
    free(destination)
}
var dataset: Dataset?
let parse = try time {
    dataset = isJSON ? try JSONDatasetParser.parse(bytes).dataset : try NPYDatasetParser.parse(bytes)
}
let hash = time { sink &+= SHA256.hex(bytes).count }
let summary = time { sink &+= DatasetRecord.TargetSummary(dataset!.targets).distinct }
let served = try time {
    sink &+= try DatasetUpload.parse(bytes, as: isJSON ? .json : .npy(targetIndex: nil)).dataset.rows
}

func line(_ name: String, _ seconds: Double) {
    print(
        name.padding(toLength: 34, withPad: " ", startingAt: 0)
            + String(format: "%9.1f ms %9.1f MB/s", seconds * 1000, megabytes / seconds))
}
print("\(arguments[1]): \(String(format: "%.1f", megabytes)) MB, median of \(rounds) rounds (sink \(sink % 10))")
line("copy into fresh memory (memcpy, huge pages)", copy)
line(isJSON ? "parse (JSONDatasetParser)" : "parse (NPYDatasetParser)", parse)
line("sha256 (libcrypto)", hash)
line("target summary", summary)
line("ingest as served (hash beside parse)", served)
print(String(format: "parse / copy: %.2fx; ingest / copy: %.2fx", copy / parse, copy / served))
print(
    String(
        format:
            "RESULT mode=inprocess format=%@ mb=%.1f copy_mbps=%.1f parse_mbps=%.1f ingest_mbps=%.1f ratio=%.3f "
            + "parse_ratio=%.3f",
        isJSON ? "json" : "npy", megabytes, megabytes / copy, megabytes / parse, megabytes / served, copy / served,
        copy / parse))
