import Foundation
import Testing

@testable import DescentLog
@testable import DescentService

@Suite("Configuration")
struct ConfigurationTests {
    @Test("with no flags and no variables every setting has the default of API.md")
    func defaults() throws {
        let (command, configuration) = try Configuration.parse(arguments: [], environment: [:])
        #expect(command == .run)
        #expect(configuration.server.host == "0.0.0.0")
        #expect(configuration.server.port == 8080)
        #expect(configuration.dataDirectory == "./data")
        #expect(configuration.maxQueue == 1024)
        #expect(configuration.server.limits.maxBodyBytes == 1_073_741_824)
        #expect(configuration.logLevel == .info)
        #expect(configuration.apiKeys == nil && !configuration.metricsNeedKey)
        #expect(configuration.tenantMaxJobs == nil && configuration.tenantMaxBytes == nil)
        #expect(configuration.memoryLimit == nil)
        #expect(configuration.workers >= 1)
        #expect(configuration.server.ioThreads == ProcessInfo.processInfo.activeProcessorCount)
    }

    @Test("environment variables set values and flags win over them, in both flag spellings")
    func flagsOverrideEnvironment() throws {
        let environment = [
            "DESCENT_PORT": "9000", "DESCENT_HOST": "::", "DESCENT_LOG_LEVEL": "debug", "DESCENT_IO_THREADS": "3",
        ]
        let (_, fromEnvironment) = try Configuration.parse(arguments: [], environment: environment)
        #expect(fromEnvironment.server.port == 9000)
        #expect(fromEnvironment.server.ioThreads == 3)
        #expect(fromEnvironment.server.host == "::")
        #expect(fromEnvironment.logLevel == .debug)

        let (_, fromFlags) = try Configuration.parse(
            arguments: ["--port", "9001", "--log-level=error", "--header-timeout", "2.5", "--io-threads", "1"],
            environment: environment)
        #expect(fromFlags.server.port == 9001)
        #expect(fromFlags.server.ioThreads == 1)
        #expect(fromFlags.logLevel == .error)
        #expect(fromFlags.server.headerTimeout == 2.5)
        #expect(fromFlags.server.host == "::")
    }

    @Test(
        "a bad value names the flag and its variable, or the variable and its flag",
        arguments: [
            (["--port", "abc"], [String: String](), "--port (DESCENT_PORT)"),
            (["--port=70000"], [:], "--port (DESCENT_PORT)"),
            ([], ["DESCENT_WORKERS": "0"], "DESCENT_WORKERS (--workers)"),
            (["--io-threads", "0"], [:], "--io-threads (DESCENT_IO_THREADS)"),
            ([], ["DESCENT_MAX_BODY_BYTES": "-1"], "DESCENT_MAX_BODY_BYTES (--max-body-bytes)"),
            (["--log-level", "loud"], [:], "--log-level (DESCENT_LOG_LEVEL)"),
            (["--idle-timeout", "nan"], [:], "--idle-timeout (DESCENT_IDLE_TIMEOUT)"),
            (["--shutdown-timeout", "0"], [:], "--shutdown-timeout (DESCENT_SHUTDOWN_TIMEOUT)"),
            ([], ["DESCENT_API_KEYS": "/etc/keys"], "DESCENT_API_KEYS (--api-keys)"),
        ])
    func badValues(arguments: [String], environment: [String: String], named: String) {
        #expect {
            _ = try Configuration.parse(arguments: arguments, environment: environment)
        } throws: { error in
            let message = (error as? Configuration.Error)?.message ?? ""
            return message.contains(named) && !message.contains("\n")
        }
    }

    @Test("an unknown flag and a flag without its value are errors")
    func unknownAndMissing() {
        #expect(throws: Configuration.Error.self) {
            try Configuration.parse(arguments: ["--prot", "1"], environment: [:])
        }
        #expect(throws: Configuration.Error.self) { try Configuration.parse(arguments: ["--port"], environment: [:]) }
    }

    @Test("--help and --version are commands, whatever else is on the line")
    func commands() throws {
        #expect(try Configuration.parse(arguments: ["--port", "1", "--help"], environment: [:]).0 == .help)
        #expect(try Configuration.parse(arguments: ["-V"], environment: [:]).0 == .version)
    }

    @Test("the help lists every option with its variable and default, and API.md's variables are all options")
    func helpIsComplete() {
        let help = Configuration.helpText
        for option in Configuration.options {
            #expect(help.contains(option.flag) && help.contains(option.variable))
        }
        for variable in [
            "DESCENT_HOST", "DESCENT_PORT", "DESCENT_DATA_DIR", "DESCENT_WORKERS", "DESCENT_MAX_QUEUE",
            "DESCENT_MAX_BODY_BYTES", "DESCENT_LOG_LEVEL", "DESCENT_API_KEYS",
        ] {
            #expect(Configuration.options.contains { $0.variable == variable }, "\(variable) is missing")
        }
    }

    @Test("the version names the linked C libraries")
    func versionText() {
        let text = Configuration.versionText
        #expect(text.contains("libnghttp2") && text.contains("SQLite") && text.contains("OpenBLAS"))
    }

    @Test("durations: a number with s, m, h or d, at least a second")
    func durations() {
        #expect(Configuration.parseDuration("90s") == 90)
        #expect(Configuration.parseDuration("30m") == 1800)
        #expect(Configuration.parseDuration("12h") == 43_200)
        #expect(Configuration.parseDuration("7d") == 604_800)
        #expect(Configuration.parseDuration("1.5h") == 5400)
        #expect(Configuration.parseDuration("120") == 120)
        for bad in ["", "d", "0s", "0.5", "-1d", "7w", "1e3s", "nan", "7 d"] {
            #expect(Configuration.parseDuration(bad) == nil, "\(bad)")
        }
    }
}
