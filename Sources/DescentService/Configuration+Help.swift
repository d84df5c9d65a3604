import DescentHTTP2
import DescentMath
import DescentStorage

extension Configuration {
    package static let version = "0.1.0"

    /// `descent --version`: this build and the C libraries it runs on.
    package static var versionText: String {
        """
        descent \(version)
        libnghttp2 \(NGHTTP2Library.version), SQLite \(SQLiteLibrary.version), \(LinearAlgebraBackend.description)
        """
    }

    /// `descent --help`: every option, generated from the same table that parses them.
    package static var helpText: String {
        var lines = [
            "descent — a gradient-descent optimization service over HTTP",
            "",
            "Usage: descent [OPTIONS]",
            "",
            "Each option may also be set by its environment variable; a flag wins over the variable.",
            "",
            "Options:",
        ]
        for option in options {
            lines.append("  \(option.flag) \(option.valueName)".padding(toLength: 32) + option.help)
            lines.append(String(repeating: " ", count: 32) + "[\(option.variable); default: \(option.defaultValue)]")
        }
        lines.append("  -h, --help".padding(toLength: 32) + "show this help and exit")
        lines.append("  -V, --version".padding(toLength: 32) + "show the version and the linked libraries, and exit")
        lines += [
            "",
            "Signals: SIGTERM or SIGINT stop accepting, let in-flight requests finish (at most --shutdown-timeout),",
            "then exit 0. A second signal exits at once.",
            "Exit codes: 0 after a clean shutdown; 1 when the service cannot start; 2 for a bad option.",
        ]
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate func padding(toLength length: Int) -> String {
        count >= length ? self + "  " : self + String(repeating: " ", count: length - count)
    }
}
