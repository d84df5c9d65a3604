import Glibc

/// Process resource limits (getrlimit(2)).
package enum ResourceLimits {
    /// Raises the soft limit on open descriptors to the hard limit and returns the new soft limit: every
    /// connection is a descriptor, and the usual default soft limit (1024) would cap a server far below its
    /// configured connection limit. The corresponding C functions are `getrlimit` and `setrlimit`.
    @discardableResult
    package static func raiseOpenFileLimit() throws(SystemError) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { throw SystemError("getrlimit", .current) }
        guard limit.rlim_cur < limit.rlim_max else { return Int(limit.rlim_cur) }
        limit.rlim_cur = limit.rlim_max
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { throw SystemError("setrlimit", .current) }
        return Int(limit.rlim_cur)
    }
}
