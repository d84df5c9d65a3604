import DescentLog

/// One setting: its flag, its environment variable, what it means, and how its text is read.
package struct ConfigurationOption: Sendable {
    package let flag: String
    package let variable: String
    package let valueName: String
    package let defaultValue: String
    package let help: String
    let parse: @Sendable (String, inout Configuration) -> String?

    /// Applies `text`; a bad value is reported with the flag or variable it came from.
    func apply(_ text: String, to configuration: inout Configuration, source: String) throws(Configuration.Error) {
        if let problem = parse(text, &configuration) {
            let other = source == flag ? variable : flag
            throw Configuration.Error(message: "invalid value '\(text)' for \(source) (\(other)): \(problem)")
        }
    }
}

extension Configuration {
    package static let options: [ConfigurationOption] = [
        ConfigurationOption(
            flag: "--host", variable: "DESCENT_HOST", valueName: "ADDRESS", defaultValue: "0.0.0.0",
            help: "address to listen on; :: listens on IPv6 and IPv4"
        ) { text, configuration in
            guard !text.isEmpty else { return "must not be empty" }
            configuration.server.host = text
            return nil
        },
        integer("--port", "DESCENT_PORT", default: "8080", "TCP port; 0 picks a free one", 0...65535) {
            $0.server.port = $1
        },
        ConfigurationOption(
            flag: "--data-dir", variable: "DESCENT_DATA_DIR", valueName: "PATH", defaultValue: "./data",
            help: "directory for the service's data; created if missing"
        ) { text, configuration in
            guard !text.isEmpty else { return "must not be empty" }
            configuration.dataDirectory = text
            return nil
        },
        integer(
            "--workers", "DESCENT_WORKERS", default: "number of cores",
            "jobs run at once; a job alone may use every core", 1...1024
        ) { $0.workers = $1 },
        integer(
            "--max-queue", "DESCENT_MAX_QUEUE", default: "1024",
            "jobs that may wait for a worker; beyond it POST /v1/jobs answers 429", 1...1_000_000
        ) { $0.maxQueue = $1 },
        integer(
            "--max-body-bytes", "DESCENT_MAX_BODY_BYTES", default: "1073741824", "largest request body; larger is 413",
            1...(1 << 40)
        ) { $0.server.limits.maxBodyBytes = $1 },
        ConfigurationOption(
            flag: "--log-level", variable: "DESCENT_LOG_LEVEL", valueName: "LEVEL", defaultValue: "info",
            help: "debug, info, warning or error; info includes one access-log line per request"
        ) { text, configuration in
            guard let level = LogLevel(name: text) else { return "expected debug, info, warning or error" }
            configuration.logLevel = level
            return nil
        },
        ConfigurationOption(
            flag: "--api-keys", variable: "DESCENT_API_KEYS", valueName: "FILE", defaultValue: "unset (no auth)",
            help:
                "file of KEY TENANT lines; then /v1 needs 'Authorization: Bearer KEY' and each tenant sees only its own"
        ) { text, configuration in
            do throws(Configuration.Error) {
                configuration.apiKeys = try APIKeys(contentsOf: text)
                return nil
            } catch {
                return error.message
            }
        },
        ConfigurationOption(
            flag: "--metrics-access", variable: "DESCENT_METRICS_ACCESS", valueName: "WHO", defaultValue: "open",
            help: "open, or key: with API keys set, /metrics then needs one too"
        ) { text, configuration in
            switch text {
            case "open": configuration.metricsNeedKey = false
            case "key": configuration.metricsNeedKey = true
            default: return "expected open or key"
            }
            return nil
        },
        integer(
            "--tenant-max-jobs", "DESCENT_TENANT_MAX_JOBS", default: "unlimited",
            "jobs one tenant may have queued or running; beyond it POST /v1/jobs answers 429", 1...1_000_000
        ) { $0.tenantMaxJobs = $1 },
        bytes(
            "--tenant-max-bytes", "DESCENT_TENANT_MAX_BYTES", default: "unlimited",
            "bytes of uploaded datasets one tenant may store; beyond it an upload answers 507"
        ) { $0.tenantMaxBytes = $1 },
        bytes(
            "--memory-limit", "DESCENT_MEMORY_LIMIT", default: "half the machine's (or cgroup's) memory",
            "memory for datasets and jobs; an upload or job that would not fit is refused (413/422)"
        ) { $0.memoryLimit = $1 },
        integer(
            "--max-connections", "DESCENT_MAX_CONNECTIONS", default: "10000",
            "open connections before new ones are answered 503", 1...1_000_000
        ) { $0.server.maxConnections = $1 },
        integer(
            "--io-threads", "DESCENT_IO_THREADS", default: "number of cores",
            "event lanes (serial queues) that read and write the sockets; connections are spread over them", 1...256
        ) { $0.server.ioThreads = $1 },
        seconds("--header-timeout", "DESCENT_HEADER_TIMEOUT", default: "10", "time to receive a request's headers") {
            $0.server.headerTimeout = $1
        },
        seconds("--body-timeout", "DESCENT_BODY_TIMEOUT", default: "30", "longest pause inside a request body") {
            $0.server.bodyTimeout = $1
        },
        seconds("--idle-timeout", "DESCENT_IDLE_TIMEOUT", default: "60", "keep-alive wait for the next request") {
            $0.server.idleTimeout = $1
        },
        seconds(
            "--checkpoint-seconds", "DESCENT_CHECKPOINT_SECONDS", default: "2",
            "how often a running job's state is saved, so a restart goes on from there"
        ) { $0.checkpointSeconds = $1 },
        ConfigurationOption(
            flag: "--retention", variable: "DESCENT_RETENTION", valueName: "DURATION", defaultValue: "7d",
            help: "how long finished jobs (with their history) are kept; a number with s, m, h or d"
        ) { text, configuration in
            guard let seconds = parseDuration(text) else {
                return "expected a duration such as 90s, 30m, 12h or 7d (at least 1 s)"
            }
            configuration.retentionSeconds = seconds
            return nil
        },
        seconds(
            "--stream-keepalive", "DESCENT_STREAM_KEEPALIVE", default: "15",
            "silence after which a progress stream sends a keep-alive comment"
        ) { $0.streamKeepAliveSeconds = $1 },
        seconds(
            "--shutdown-timeout", "DESCENT_SHUTDOWN_TIMEOUT", default: "10",
            "on SIGTERM/SIGINT, how long in-flight requests may finish"
        ) { $0.server.shutdownTimeout = $1 },
    ]

    private static func integer(
        _ flag: String, _ variable: String, default defaultValue: String, _ help: String, _ range: ClosedRange<Int>,
        _ set: @escaping @Sendable (inout Configuration, Int) -> Void
    ) -> ConfigurationOption {
        ConfigurationOption(flag: flag, variable: variable, valueName: "N", defaultValue: defaultValue, help: help) {
            text, configuration in
            guard let value = Int(text), range.contains(value) else {
                return "expected an integer in \(range.lowerBound)...\(range.upperBound)"
            }
            set(&configuration, value)
            return nil
        }
    }

    /// A number of bytes, optionally with a binary suffix: k, M, G or T (KiB, MiB, GiB, TiB), as `512M`.
    private static func bytes(
        _ flag: String, _ variable: String, default defaultValue: String, _ help: String,
        _ set: @escaping @Sendable (inout Configuration, Int) -> Void
    ) -> ConfigurationOption {
        ConfigurationOption(flag: flag, variable: variable, valueName: "BYTES", defaultValue: defaultValue, help: help)
        {
            text, configuration in
            guard let value = parseBytes(text) else {
                return "expected a number of bytes from 1, optionally with k, M, G or T (e.g. 512M)"
            }
            set(&configuration, value)
            return nil
        }
    }

    package static func parseBytes(_ text: String) -> Int? {
        let units: [Character: Int] = ["k": 1 << 10, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = Substring(text)
        var unit = 1
        if let last = text.last, let scale = units[last] {
            digits = digits.dropLast()
            unit = scale
        }
        guard !digits.isEmpty, digits.utf8.allSatisfy({ (48...57).contains($0) }), let number = Int(digits),
            number >= 1
        else { return nil }
        let (value, overflow) = number.multipliedReportingOverflow(by: unit)
        return overflow || value > 1 << 50 ? nil : value
    }

    /// "90s", "30m", "12h", "7d", or a bare number of seconds; at least one second.
    package static func parseDuration(_ text: String) -> Double? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        var number = Substring(text)
        var unit = 1.0
        if let last = text.last, let scale = units[last] {
            number = number.dropLast()
            unit = scale
        }
        guard number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let value = Double(number),
            value * unit >= 1, value * unit <= 100 * 365 * 86_400
        else { return nil }
        return value * unit
    }

    private static func seconds(
        _ flag: String, _ variable: String, default defaultValue: String, _ help: String,
        _ set: @escaping @Sendable (inout Configuration, Double) -> Void
    ) -> ConfigurationOption {
        ConfigurationOption(
            flag: flag, variable: variable, valueName: "SECONDS", defaultValue: defaultValue, help: help
        ) {
            text, configuration in
            guard let value = Double(text), value.isFinite, value > 0, value <= 86_400 else {
                return "expected a number of seconds greater than 0 and at most 86400"
            }
            set(&configuration, value)
            return nil
        }
    }
}
