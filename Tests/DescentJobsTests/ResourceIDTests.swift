import Testing

@testable import DescentJobs

/// A fixed sequence, so the test knows exactly which characters an id must have.
private struct CountingGenerator: RandomNumberGenerator {
    var state: UInt64 = 0
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return state
    }
}

@Suite("Resource ids")
struct ResourceIDTests {
    @Test("an id is its prefix and 20 base32 characters, and parses back")
    func format() throws {
        let id = ResourceID.make(prefix: ResourceID.jobPrefix)
        #expect(id.rawValue.hasPrefix("job_"))
        #expect(id.rawValue.count == 24)
        #expect(ResourceID(id.rawValue, prefix: ResourceID.jobPrefix) == id)
    }

    @Test("the same random numbers give the same id")
    func deterministicForAGenerator() {
        var first = CountingGenerator()
        var second = CountingGenerator()
        #expect(ResourceID.make(prefix: "ds_", using: &first) == ResourceID.make(prefix: "ds_", using: &second))
    }

    @Test("ten thousand fresh ids are all different")
    func unique() {
        let ids = Set((0..<10_000).map { _ in ResourceID.make(prefix: "ds_") })
        #expect(ids.count == 10_000)
    }

    @Test(
        "ids with the wrong prefix, length or alphabet are rejected",
        arguments: [
            "ds_0123456789abcdefghjk", "job_0123456789abcdefghj", "job_0123456789abcdefghjkm",
            "job_0123456789abcdefghjI",
            "job_0123456789abcdefghju", "job_", "", "job_../../etc/passwd",
        ])
    func rejectsMalformed(text: String) {
        #expect(ResourceID(text, prefix: ResourceID.jobPrefix) == nil)
    }
}
