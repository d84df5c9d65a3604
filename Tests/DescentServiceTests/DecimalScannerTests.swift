import DescentService
import Testing

/// The scanner against the standard library's correctly rounded `Double(String)`, bit for bit, on the
/// numbers each of its three paths takes — above all the 17–19 digit ones of the exact 128-bit path.
struct DecimalScannerTests {
    private func scan(_ text: String) -> Double? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { DecimalScanner.scan($0, from: 0, lenient: false)?.value }
    }

    @Test(
        "hand-picked values: halfway cases, 19 digits, the ends of the exact path",
        arguments: [
            "0.1", "0.30000000000000004", "9007199254740993", "9007199254740995", "1.7976931348623157e308",
            "2.2250738585072014e-308", "4.9406564584124654e-324", "0.12345678901234567", "1.2345678901234567e-27",
            "9999999999999999999e27", "1000000000000000000e-27", "9999999999999999999", "18446744073709551615",
            "123456789012345678e-20", "7.4505805969238281e-9", "1e23", "8.98846567431158e307", "5e-324",
            "2.4703282292062328e-324", "0.000000000000000000000000001", "123456789.12345678", "-0.75000000000000011",
        ])
    func handPicked(_ text: String) throws {
        let expected = try #require(Double(text))
        #expect(scan(text)?.bitPattern == expected.bitPattern, "\(text)")
    }

    /// 19-digit decimals just below and just above the midpoint of two neighbouring doubles (made with
    /// Python's `decimal` at 80 digits): the inputs closest to a tie that 19 digits can write.
    @Test(
        "19-digit neighbours of halfway points round by their remainder",
        arguments: [
            "9.530788245481568730e-7", "9.530788245481568731e-7", "6.858410257358684564e-2", "6.858410257358684565e-2",
            "8.391468627921774752e-23", "8.391468627921774753e-23", "4.291200252213269333e-21",
            "4.291200252213269334e-21", "9.187336568287920413e-24", "9.187336568287920414e-24",
            "1.337460925977863926e-14", "1.337460925977863927e-14", "4.763549362336835901e+0",
            "4.763549362336835902e+0", "1.816417120094785752e-12", "1.816417120094785753e-12",
            "1.531994554710902511e+0", "1.531994554710902512e+0", "2.114217650346810221e+9", "2.114217650346810222e+9",
            "6.675633241585634322e-13", "6.675633241585634323e-13", "9.529380482113051605e+10",
            "9.529380482113051606e+10",
        ])
    func nearHalfway(_ text: String) throws {
        let expected = try #require(Double(text))
        #expect(scan(text)?.bitPattern == expected.bitPattern, "\(text)")
    }

    @Test("200,000 random 15–19 digit mantissas with decimal exponents −30…30 match Double(String)")
    func randomMatches() {
        var generator = SplitMix(seed: 20_261_127)
        var mismatches: [String] = []
        for _ in 0..<200_000 {
            let digits = 15 + Int(generator.next() % 5)
            var mantissa = String(1 + generator.next() % 9)
            for _ in 1..<digits { mantissa += String(generator.next() % 10) }
            let exponent = Int(generator.next() % 61) - 30
            // Sometimes the decimal point inside, the way %.17g writes; sometimes an exponent.
            let text =
                generator.next() % 2 == 0
                ? "\(mantissa)e\(exponent)"
                : "\(mantissa.prefix(1)).\(mantissa.dropFirst())e\(exponent)"
            guard let expected = Double(text) else { continue }
            if scan(text)?.bitPattern != expected.bitPattern { mismatches.append(text) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }
}

/// SplitMix64: a tiny seeded generator, so that the test reads the same numbers every run.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
