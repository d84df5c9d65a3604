import Foundation

/// Descent's own pseudo-random generator: xoshiro256** 1.0 (D. Blackman and S. Vigna, "Scrambled linear
/// pseudorandom number generators", ACM TOMS 47(4), 2021; arXiv:1805.01407, 2018; reference C code at
/// https://prng.di.unimi.it/xoshiro256starstar.c). Period 2²⁵⁶ − 1, 4-dimensionally equidistributed, passes
/// BigCrush and PractRand.
///
/// The whole state is the four 64-bit words `s0…s3` — nothing is cached between calls (``nextNormal()``
/// discards the polar method's second variate for this reason) — so a checkpoint of those words, through
/// `Codable` or ``init(state:)``, resumes the exact stream.
///
/// Reproducibility: ``next()``, ``nextDouble()``, ``nextInt(below:)`` and ``shuffle(_:)`` are pure integer
/// arithmetic (plus one exact integer-to-Double conversion and a power-of-two scaling), so they are
/// bit-identical on every machine and compiler. ``nextNormal()`` additionally calls `log` and `sqrt`: `sqrt` is
/// correctly rounded by IEEE 754, `log` is not required to be, so normals are bit-identical wherever the same
/// libm is linked (the same glibc, as in Descent's Debian image).
///
/// Swift's own `shuffle(using:)`, `random(in:using:)` and friends are deliberately not used on this
/// generator's output: their algorithms are not specified and may change between Swift versions.
package struct RandomSource: RandomNumberGenerator, Sendable, Equatable, Codable {
    package private(set) var s0: UInt64
    package private(set) var s1: UInt64
    package private(set) var s2: UInt64
    package private(set) var s3: UInt64

    /// The state as four words `[s0, s1, s2, s3]`, for storage; ``init(state:)`` restores it.
    package var state: [UInt64] { [s0, s1, s2, s3] }

    /// The reference seeding (Vigna's recommendation in xoshiro256starstar.c): the state is the first four
    /// outputs of SplitMix64 started at `seed` (G. L. Steele, D. Lea and C. H. Flood, "Fast splittable
    /// pseudorandom number generators", OOPSLA 2014; code at https://prng.di.unimi.it/splitmix64.c).
    /// SplitMix64 is a bijection of its counter, so the four words are never all zero, whatever the seed.
    package init(seed: UInt64) {
        var splitMix = seed
        s0 = Self.splitMix64(&splitMix)
        s1 = Self.splitMix64(&splitMix)
        s2 = Self.splitMix64(&splitMix)
        s3 = Self.splitMix64(&splitMix)
    }

    /// Restores a state saved from ``state``; nil unless there are exactly four words and not all are zero
    /// (the all-zero state is xoshiro's one fixed point: it would output 0 forever).
    package init?(state: [UInt64]) {
        guard state.count == 4, state.contains(where: { $0 != 0 }) else { return nil }
        s0 = state[0]
        s1 = state[1]
        s2 = state[2]
        s3 = state[3]
    }

    private enum CodingKeys: String, CodingKey {
        case s0, s1, s2, s3
    }

    /// Decodes the four words, rejecting the all-zero state (see ``init(state:)``).
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let words = try [CodingKeys.s0, .s1, .s2, .s3].map { try container.decode(UInt64.self, forKey: $0) }
        guard let restored = RandomSource(state: words) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "xoshiro256** state is all zero"))
        }
        self = restored
    }

    /// One step of SplitMix64: x ← x + 0x9E3779B97F4A7C15 (the golden-ratio increment), then the output is
    /// x passed through Stafford's "Mix13" finalizer (two xor-shift-multiplies and a final xor-shift).
    static func splitMix64(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The next 64 uniform bits. The output scrambler is rotl(s1 · 5, 7) · 9; the linear engine then
    /// advances the state by xor-shifts and a rotation, exactly as the reference `next()`.
    package mutating func next() -> UInt64 {
        let result = (s1 &* 5).rotatedLeft(by: 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3.rotatedLeft(by: 45)
        return result
    }

    /// Uniform on [0, 1): the top 53 bits of ``next()`` times 2⁻⁵³, so every value is a multiple of 2⁻⁵³ and
    /// each of the 2⁵³ is equally likely (Vigna's recommended conversion, prng.di.unimi.it, "Generating
    /// uniform doubles in the unit interval"). The lower bits of xoshiro256** are as good as the upper, but
    /// the upper are the ones the reference uses.
    package mutating func nextDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A standard normal N(0, 1) by Marsaglia's polar method (G. Marsaglia and T. A. Bray, "A convenient
    /// method for generating normal variables", SIAM Review 6(3), 1964): draw u, v uniform on (−1, 1) until
    /// 0 < q = u² + v² < 1 (probability π/4), then u·√(−2 ln q / q) is N(0, 1). The second variate
    /// v·√(−2 ln q / q) is discarded so that the generator's state stays exactly the four words (a cached
    /// variate would have to be checkpointed too); normals are only drawn for initialization, where the cost
    /// of one extra pair of uniforms does not matter.
    package mutating func nextNormal() -> Double {
        while true {
            let u = 2 * nextDouble() - 1
            let v = 2 * nextDouble() - 1
            let q = u * u + v * v
            if q < 1 && q > 0 {
                return u * (-2 * log(q) / q).squareRoot()
            }
        }
    }

    /// Uniform on 0..<n without bias, by Lemire's multiply-shift with rejection (D. Lemire, "Fast random
    /// integer generation in an interval", ACM TOMACS 29(1), 2019, algorithm 5): the high word of the
    /// 128-bit product x·n is uniform on 0..<n once the draws whose low word falls below 2⁶⁴ mod n are
    /// rejected. The remainder is computed only when the low word is below n, so most calls do no division.
    package mutating func nextInt(below n: Int) -> Int {
        precondition(n > 0, "nextInt(below:) needs a positive bound, got \(n)")
        let bound = UInt64(n)
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound  // 2⁶⁴ mod n
            while product.low < threshold {
                product = next().multipliedFullWidth(by: bound)
            }
        }
        return Int(product.high)
    }

    /// Permutes `array` uniformly at random by the Fisher–Yates shuffle in Durstenfeld's form (R. Durstenfeld,
    /// "Algorithm 235: Random permutation", CACM 7(7), 1964; Knuth, TAOCP vol. 2, §3.4.2, algorithm P): for
    /// i from n − 1 down to 1, swap element i with element ``nextInt(below:)`` (i + 1). It draws exactly
    /// n − 1 bounded integers, so the result depends only on the seed and the array's length.
    package mutating func shuffle(_ array: inout [Int]) {
        var i = array.count - 1
        while i > 0 {
            array.swapAt(i, nextInt(below: i + 1))
            i -= 1
        }
    }
}

extension UInt64 {
    /// rotl(x, k) = (x << k) | (x >> (64 − k)), for 0 < k < 64.
    @inline(__always)
    fileprivate func rotatedLeft(by k: UInt64) -> UInt64 {
        (self << k) | (self >> (64 - k))
    }
}
