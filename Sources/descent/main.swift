import DescentLog
import DescentService
// descent — read the configuration, start the service, and stop it cleanly on SIGTERM or SIGINT.
import Dispatch
import Foundation

let (command, configuration): (Configuration.Command, Configuration)
do {
    (command, configuration) = try Configuration.parse(
        arguments: Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
} catch {
    FileHandle.standardError.write(Data("descent: \(error)\n".utf8))
    exit(2)
}

switch command {
case .help:
    print(Configuration.helpText)
    exit(0)
case .version:
    print(Configuration.versionText)
    exit(0)
case .run:
    break
}

let logger = Logger(level: configuration.logLevel)
ProcessSetup.prepare(logger: logger)
let application = Application(configuration: configuration, logger: logger)
do {
    try application.start()
} catch {
    logger.error("cannot start", ["error": .string("\(error)")])
    FileHandle.standardError.write(Data("descent: \(error)\n".utf8))
    exit(1)
}

let signals = ShutdownSignals(logger: logger) { done in
    application.shutdown {
        logger.info("stopped")
        done()
    }
}
signals.install()
dispatchMain()
