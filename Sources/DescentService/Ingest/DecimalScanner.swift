#if canImport(Glibc)
    import Glibc
#endif

/// Decimal number scanning shared by the JSON and CSV dataset parsers: straight from the body's bytes to a
/// correctly rounded Double, without making a String for the common case.
///
/// Three paths, each correctly rounded:
/// 1. Clinger's fast path: when the mantissa is ≤ 2^53 and the decimal exponent is within ±22, the value is one
///    IEEE multiplication or division of two exact Doubles. Integers, short decimals, most 15–16 digit output.
/// 2. The exact integer path: up to 19 significant digits and a decimal exponent within ±27 — which takes in
///    the 17-digit round-trip output of `printf("%.17g")`, numpy and Python. w·10^q is w·5^q·2^q, and with
///    5^27 < 2^63 both w·5^q and ⌊w·2^k / 5^n⌋ (with its remainder) are exact in 128-bit integers; rounding the
///    top 53 bits half-to-even, with the remainder as the sticky bit, is then exact.
/// 3. Everything else (20+ digits, large exponents, subnormals) goes to glibc's `strtod`; the token is already
///    validated, so it only sees well-formed text (a lenient "5." or "+5" is valid C too).
package enum DecimalScanner {
    /// 10^0 … 10^22, every one exactly representable.
    private static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
        1e19, 1e20, 1e21, 1e22,
    ]

    /// 5^0 … 5^27: 5^27 < 2^63, so every product with a 19-digit mantissa fits in 128 bits.
    private static let powersOfFive: [UInt64] = (0...27).map { n in (0..<n).reduce(1) { product, _ in product * 5 } }

    /// Scans the longest number at `bytes[start...]`. JSON grammar (`lenient == false`):
    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`. Lenient (CSV) grammar also takes a leading `+`,
    /// leading zeros, `.5` and `5.`. Returns nil when no number starts at `start`; otherwise the value (±infinity
    /// when the text is beyond the Double range: the caller reports it as non-finite) and the index after it.
    /// The caller checks that what follows is a delimiter.
    @inline(__always)
    package static func scan(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, lenient: Bool) -> (
        value: Double, end: Int
    )? {
        let count = bytes.count
        var index = start
        var negative = false
        if index < count {
            if bytes[index] == UInt8(ascii: "-") {
                negative = true
                index += 1
            } else if lenient && bytes[index] == UInt8(ascii: "+") {
                index += 1
            }
        }
        var mantissa: UInt64 = 0
        var significant = 0
        var overflow = false
        var exponent = 0
        /// Adds one digit to the mantissa, skipping leading zeros; past 19 significant digits it only notes
        /// the overflow (the caller then takes the exact slow path).
        func accumulate(_ digit: UInt8) {
            guard mantissa != 0 || digit != 0 else { return }
            if significant < 19 {
                mantissa = mantissa &* 10 &+ UInt64(digit)
                significant += 1
            } else {
                overflow = true
            }
        }

        // Integer part.
        let integerStart = index
        if !lenient && index < count && bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < count {
                let digit = bytes[index] &- UInt8(ascii: "0")
                guard digit < 10 else { break }
                accumulate(digit)
                index += 1
            }
        }
        let integerDigits = index - integerStart
        if !lenient && integerDigits == 0 { return nil }  // JSON has no ".5"

        // Fraction.
        var fractionDigits = 0
        if index < count && bytes[index] == UInt8(ascii: ".") {
            var probe = index + 1
            while probe < count {
                let digit = bytes[probe] &- UInt8(ascii: "0")
                guard digit < 10 else { break }
                accumulate(digit)
                exponent -= 1
                probe += 1
            }
            fractionDigits = probe - index - 1
            if fractionDigits > 0 || (lenient && integerDigits > 0) {
                index = probe
            } else {
                return nil  // "1." in JSON, or a lone "."
            }
        }
        guard integerDigits > 0 || fractionDigits > 0 else { return nil }

        // Exponent.
        if index < count && (bytes[index] | 0x20) == UInt8(ascii: "e") {
            var probe = index + 1
            var exponentNegative = false
            if probe < count && (bytes[probe] == UInt8(ascii: "+") || bytes[probe] == UInt8(ascii: "-")) {
                exponentNegative = bytes[probe] == UInt8(ascii: "-")
                probe += 1
            }
            let digitsStart = probe
            var value = 0
            while probe < count {
                let digit = bytes[probe] &- UInt8(ascii: "0")
                guard digit < 10 else { break }
                if value < 1_000_000 { value = value * 10 + Int(digit) }  // saturates far beyond any Double
                probe += 1
            }
            guard probe > digitsStart else { return nil }
            exponent += exponentNegative ? -value : value
            index = probe
        }

        if !overflow {
            if mantissa == 0 { return (negative ? -0.0 : 0.0, index) }
            if mantissa <= 1 << 53 {
                if exponent >= -22 && exponent <= 22 {
                    var value = Double(mantissa)
                    value = exponent < 0 ? value / powersOfTen[-exponent] : value * powersOfTen[exponent]
                    return (negative ? -value : value, index)
                }
                // Clinger's extension: a mantissa small enough to take the excess power of ten exactly.
                if exponent > 22 && exponent <= 22 + 15 {
                    let (scaled, overflowed) = mantissa.multipliedReportingOverflow(
                        by: UInt64(powersOfTen[exponent - 22]))
                    if !overflowed && scaled <= 1 << 53 {
                        let value = Double(scaled) * powersOfTen[22]
                        return (negative ? -value : value, index)
                    }
                }
            }
            if exponent >= -27 && exponent <= 27 {
                let value = exactPath(mantissa, exponent)
                return (negative ? -value : value, index)
            }
        }
        return (slowPath(bytes, start, index), index)
    }

    /// mantissa × 10^exponent, correctly rounded, for a non-zero mantissa and |exponent| ≤ 27 (path 2 above).
    private static func exactPath(_ mantissa: UInt64, _ exponent: Int) -> Double {
        var value: UInt128
        var binaryExponent: Int
        var sticky = false
        if exponent >= 0 {
            // w · 10^q = (w · 5^q) · 2^q, the product exact in 128 bits.
            value = UInt128(mantissa) * UInt128(powersOfFive[exponent])
            binaryExponent = exponent
        } else {
            // w · 10^−n = (w · 2^k / 5^n) · 2^(−k−n): the dividend shifted to just below 2^127, so the quotient
            // keeps at least 64 significant bits; a non-zero remainder is the sticky bit.
            let divisor = UInt128(powersOfFive[-exponent])
            let shift = 127 - (64 - mantissa.leadingZeroBitCount)
            let dividend = UInt128(mantissa) << shift
            let (quotient, remainder) = dividend.quotientAndRemainder(dividingBy: divisor)
            value = quotient
            sticky = remainder != 0
            binaryExponent = exponent - shift
        }
        let bits = 128 - value.leadingZeroBitCount
        // 53 bits or fewer (only a product can be that short): exact as it is.
        guard bits > 53 else {
            return Double(sign: .plus, exponent: binaryExponent, significand: Double(UInt64(value)))
        }
        let dropped = bits - 53
        var significand = UInt64(truncatingIfNeeded: value >> dropped)
        let rest = value & ((UInt128(1) << dropped) - 1)
        let half = UInt128(1) << (dropped - 1)
        if rest > half || (rest == half && (sticky || significand & 1 == 1)) {
            significand += 1  // 2^53 at most, still exact in a Double
        }
        return Double(sign: .plus, exponent: binaryExponent + dropped, significand: Double(significand))
    }

    /// The correctly rounded value of the validated token `bytes[start..<end]`: glibc's `strtod` on a
    /// NUL-terminated copy on the stack. `strtod` reads the process locale's decimal point; the service never
    /// calls `setlocale`, so that is the "C" locale's '.', and should it ever differ (strtod then stops short),
    /// the standard library's locale-independent `Double(String)` answers instead.
    private static func slowPath(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Double {
        let length = end - start
        let parsed = withUnsafeTemporaryAllocation(of: CChar.self, capacity: length + 1) { scratch -> Double? in
            for offset in 0..<length { scratch[offset] = CChar(bitPattern: bytes[start + offset]) }
            scratch[length] = 0
            var stop: UnsafeMutablePointer<CChar>?
            let value = strtod(scratch.baseAddress!, &stop)
            return stop == scratch.baseAddress! + length ? value : nil
        }
        if let parsed { return parsed }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        return Double(text) ?? .nan
    }
}
