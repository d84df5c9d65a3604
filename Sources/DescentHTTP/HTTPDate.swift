import Foundation
import Synchronization

/// The `Date` header value in IMF-fixdate form (RFC 9110 §5.6.7), formatted once per second and shared.
package final class HTTPDate: Sendable {
    package static let shared = HTTPDate()

    private let cache = Mutex<(second: Int, value: [UInt8])>((-1, []))

    package func current() -> [UInt8] {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let second = now.tv_sec
        return cache.withLock { cache in
            if cache.second != second { cache = (second, Array(Self.format(epochSeconds: second).utf8)) }
            return cache.value
        }
    }

    package static func format(epochSeconds: Int) -> String {
        var seconds = epochSeconds
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return
            "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
