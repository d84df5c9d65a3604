import Testing

@testable import DescentHTTP2

/// `FrameGuard.receiving`: what the input ended inside, which the connection's slow-loris deadlines follow.
@Suite("FrameGuard: the unit being received")
struct FrameGuardReceivingTests {
    /// The unit after each byte of `bytes`, fed one at a time.
    private func units(_ bytes: [UInt8], through frameGuard: inout FrameGuard) -> [ReceivingUnit] {
        var units: [ReceivingUnit] = []
        for byte in bytes {
            let step = [byte].withUnsafeBytes { frameGuard.step($0, isExpected: { _ in false }) }
            if case .violation(let code, let reason) = step { Issue.record("violation \(code): \(reason)") }
            units.append(frameGuard.receiving)
        }
        return units
    }

    @Test("the preface and a header block are one .head unit each, however many frames; between frames, nothing")
    func headerBlockIsOneUnit() {
        var frameGuard = FrameGuard(settings: HTTP2Settings())
        #expect(frameGuard.receiving.kind == .nothing)
        let preface = units(FrameBuilder.preface, through: &frameGuard)
        #expect(preface.dropLast().allSatisfy { $0.kind == .head } && preface.last?.kind == .nothing)
        #expect(Set(preface.dropLast()).count == 1)

        let block = FrameBuilder.headerBlock([(":method", "GET"), (":scheme", "http"), (":path", "/")])
        let split = block.count / 2
        let frames =
            FrameBuilder.headers(stream: 1, block: Array(block[..<split]), endHeaders: false)
            + FrameBuilder.continuation(stream: 1, block: Array(block[split...]), endHeaders: true)
        let inBlock = units(frames, through: &frameGuard)
        // The frame header's first 8 bytes are a lone frame header; from the 9th (a HEADERS) to the end of the
        // CONTINUATION, one header block: one deadline, not renewed between its frames.
        #expect(inBlock.dropLast().allSatisfy { $0.kind == .head })
        #expect(Set(inBlock[8..<(inBlock.count - 1)]).count == 1)
        #expect(inBlock.last?.kind == .nothing)
    }

    @Test("each other frame is a .frame unit of its own, so a deadline per frame is renewed frame by frame")
    func framesAreUnits() {
        var frameGuard = FrameGuard(settings: HTTP2Settings())
        _ = units(FrameBuilder.preface, through: &frameGuard)
        let first = units(FrameBuilder.data(stream: 1, [1, 2, 3]), through: &frameGuard)
        let second = units(FrameBuilder.data(stream: 1, [4, 5, 6]), through: &frameGuard)
        #expect(first[9..<11].allSatisfy { $0.kind == .frame } && first.last?.kind == .nothing)
        #expect(second[9].kind == .frame && second[9] != first[9])
    }
}
