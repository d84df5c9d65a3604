import DescentLog
import DescentServer
import Foundation

/// The service's settings. Each comes from a `--flag`, else its `DESCENT_*` environment variable, else its
/// default (API.md, "Configuration"); `Configuration.options` is the one table that lists them all.
package struct Configuration: Sendable {
    package var server = ServerConfiguration()
    package var dataDirectory = "./data"
    package var workers = ProcessInfo.processInfo.activeProcessorCount
    package var maxQueue = 1024
    /// Seconds between a running job's checkpoints (DESCENT_CHECKPOINT_SECONDS, default 2).
    package var checkpointSeconds = 2.0
    /// How long finished jobs are kept (DESCENT_RETENTION, default 7 days).
    package var retentionSeconds = 7 * 86_400.0
    /// How long a progress stream may stay silent before it sends a keep-alive comment (API.md: 15 s).
    package var streamKeepAliveSeconds = 15.0
    package var logLevel = LogLevel.info
    /// DESCENT_API_KEYS, read at start-up: with keys, `/v1` needs one and each key's tenant sees only its own.
    package var apiKeys: APIKeys?
    /// DESCENT_METRICS_ACCESS=key: `/metrics` needs an API key too.
    package var metricsNeedKey = false
    /// Per-tenant limits (DESCENT_TENANT_MAX_JOBS, DESCENT_TENANT_MAX_BYTES); nil: none.
    package var tenantMaxJobs: Int?
    package var tenantMaxBytes: Int?
    /// DESCENT_MEMORY_LIMIT in bytes; nil: half of the machine's memory (or of the cgroup's limit).
    package var memoryLimit: Int?

    package init() {}

    /// What the command line asked for besides settings.
    package enum Command: Equatable, Sendable {
        case run
        case help
        case version
    }

    package struct Error: Swift.Error, Equatable, CustomStringConvertible {
        package let message: String
        package var description: String { message }
    }

    /// Reads `arguments` (without the program name) over `environment`; flags win over variables.
    package static func parse(
        arguments: [String], environment: [String: String]
    ) throws(Error) -> (Command, Configuration) {
        var configuration = Configuration()
        for option in options {
            guard let value = environment[option.variable] else { continue }
            try option.apply(value, to: &configuration, source: option.variable)
        }
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            switch argument {
            case "-h", "--help": return (.help, configuration)
            case "-V", "--version": return (.version, configuration)
            default: break
            }
            let (flag, inlineValue) = splitFlag(argument)
            guard let option = options.first(where: { $0.flag == flag }) else {
                throw Error(message: "unknown argument '\(argument)' (see --help)")
            }
            guard let value = inlineValue ?? remaining.popFirst() else {
                throw Error(message: "\(flag) needs a value (see --help)")
            }
            try option.apply(value, to: &configuration, source: flag)
        }
        if configuration.metricsNeedKey && configuration.apiKeys == nil {
            throw Error(message: "--metrics-access key (DESCENT_METRICS_ACCESS) needs API keys (--api-keys)")
        }
        return (.run, configuration)
    }

    private static func splitFlag(_ argument: String) -> (String, String?) {
        guard argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") else { return (argument, nil) }
        return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
    }
}
