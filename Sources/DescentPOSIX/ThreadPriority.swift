import CDescentPOSIX

/// The scheduling priority of the calling thread.
package enum ThreadPriority {
    /// Makes the calling thread yield the CPU to normal threads when they are runnable (a nice value of
    /// `nice`, 1…19; raising it needs no privilege). Returns whether it took.
    @discardableResult
    package static func lowerCurrentThread(nice: Int32) -> Bool {
        descent_set_thread_nice(nice) == 0
    }
}
