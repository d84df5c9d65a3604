import Foundation

/// How much memory this process may use: the machine's, or less when its cgroup (a container) sets a limit.
enum MachineMemory {
    /// The default `DESCENT_MEMORY_LIMIT`: half of what is available, leaving the rest for request bodies while
    /// they are read, SQLite's cache, the allocator's slack and the rest of the machine.
    static func defaultLimit() -> Int { max(64 << 20, available() / 2) }

    static func available() -> Int {
        let physical = physicalBytes() ?? (8 << 30)
        guard let cgroup = cgroupLimit() else { return physical }
        return min(physical, cgroup)
    }

    /// MemTotal of /proc/meminfo.
    private static func physicalBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemTotal:") {
            let fields = line.split(separator: " ")
            guard fields.count >= 2, let kibibytes = Int(fields[1]) else { return nil }
            return kibibytes * 1024
        }
        return nil
    }

    /// The cgroup v2 `memory.max` (or v1 `memory.limit_in_bytes`); nil when there is none ("max", or v1's
    /// huge placeholder).
    private static func cgroupLimit() -> Int? {
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if let bytes = Int(value), bytes < 1 << 60 { return bytes }
            return nil
        }
        return nil
    }
}
