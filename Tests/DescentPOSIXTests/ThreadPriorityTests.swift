import Foundation
import Glibc
import Synchronization
import Testing

@testable import DescentPOSIX

@Suite("Thread priority")
struct ThreadPriorityTests {
    @Test("lowering a thread's priority changes that thread's nice value, not the process's")
    func lowersOnlyTheCallingThread() {
        let before = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        let lowered = Mutex<(took: Bool, nice: Int32)?>(nil)
        let thread = Thread {
            let took = ThreadPriority.lowerCurrentThread(nice: 15)
            // With who = 0, getpriority reads the calling thread on Linux (its tid is the "process" asked about).
            lowered.withLock { $0 = (took, getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)) }
        }
        thread.start()
        let deadline = Date().addingTimeInterval(5)
        while lowered.withLock({ $0 }) == nil && Date() < deadline { usleep(1000) }
        let result = lowered.withLock { $0 }
        #expect(result?.took == true)
        #expect(result?.nice == max(before, 15))
        #expect(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) == before)
    }
}
