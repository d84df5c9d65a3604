import Testing

@testable import DescentMath

@Suite("Initialization")
struct InitializationTests {
    @Test("zeros gives that many zeros and draws nothing")
    func zerosDrawsNothing() throws {
        var random = RandomSource(seed: 1)
        let before = random
        #expect(try Initialization.zeros.parameters(count: 5, random: &random) == [0, 0, 0, 0, 0])
        #expect(try Initialization.zeros.parameters(count: 0, random: &random) == [])
        #expect(random == before)
    }

    @Test("normal is scale times the generator's normals, in index order")
    func normalScalesTheNormals() throws {
        var random = RandomSource(seed: 3)
        var reference = random
        let parameters = try Initialization.normal(scale: 0.01).parameters(count: 4, random: &random)
        #expect(parameters == (0..<4).map { _ in 0.01 * reference.nextNormal() })
        #expect(random == reference)
    }

    @Test("normal with scale s has standard deviation s")
    func normalHasTheScaleAsDeviation() throws {
        var random = RandomSource(seed: 8)
        let parameters = try Initialization.normal(scale: 0.5).parameters(count: 20_000, random: &random)
        let mean = parameters.reduce(0, +) / 20_000
        let variance = parameters.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 19_999
        #expect(abs(mean) < 0.03)  // standard error 0.5/√20000 ≈ 0.0035
        #expect(abs(variance.squareRoot() - 0.5) < 0.02)  // standard error ≈ 0.5/√40000 = 0.0025
    }

    @Test("uniform lies in [−scale, scale) and fills it evenly")
    func uniformCoversTheInterval() throws {
        var random = RandomSource(seed: 4)
        var reference = random
        let parameters = try Initialization.uniform(scale: 2).parameters(count: 20_000, random: &random)
        #expect(parameters.prefix(3) == ArraySlice((0..<3).map { _ in 2 * (2 * reference.nextDouble() - 1) }))
        #expect(parameters.allSatisfy { $0 >= -2 && $0 < 2 })
        // U(−2, 2): mean 0, variance (2·2)²/12 = 4/3; a quarter of the draws per unit-wide quarter.
        let mean = parameters.reduce(0, +) / 20_000
        let variance = parameters.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 19_999
        #expect(abs(mean) < 0.05)
        #expect(abs(variance - 4.0 / 3.0) < 0.05)
        for lower in [-2.0, -1, 0, 1] {
            let share = Double(parameters.filter { $0 >= lower && $0 < lower + 1 }.count) / 20_000
            #expect(abs(share - 0.25) < 0.02)
        }
    }

    @Test("the same seed gives the same parameters and a different seed different ones")
    func randomStartsAreReproducible() throws {
        for initialization in [Initialization.normal(scale: 1), .uniform(scale: 1)] {
            var a = RandomSource(seed: 10)
            var b = RandomSource(seed: 10)
            var c = RandomSource(seed: 11)
            let first = try initialization.parameters(count: 50, random: &a)
            #expect(first == (try initialization.parameters(count: 50, random: &b)))
            #expect(first != (try initialization.parameters(count: 50, random: &c)))
        }
    }

    @Test("a longer vector from the same seed starts with the shorter one")
    func drawsAreInIndexOrder() throws {
        var short = RandomSource(seed: 6)
        var long = RandomSource(seed: 6)
        let three = try Initialization.normal(scale: 1).parameters(count: 3, random: &short)
        let ten = try Initialization.normal(scale: 1).parameters(count: 10, random: &long)
        #expect(Array(ten.prefix(3)) == three)
    }

    @Test("values are returned as given and draw nothing")
    func valuesAreAWarmStart() throws {
        var random = RandomSource(seed: 1)
        let before = random
        #expect(try Initialization.values([1.5, -2, 0]).parameters(count: 3, random: &random) == [1.5, -2, 0])
        #expect(random == before)
    }

    @Test("values with the wrong count are refused, naming the expected count")
    func valuesOfTheWrongCountAreRefused() {
        var random = RandomSource(seed: 1)
        #expect(throws: InitializationError.wrongCount(expected: 4, actual: 3)) {
            try Initialization.values([1, 2, 3]).parameters(count: 4, random: &random)
        }
        #expect(throws: InitializationError.wrongCount(expected: 2, actual: 3)) {
            try Initialization.values([1, 2, 3]).parameters(count: 2, random: &random)
        }
        #expect(
            InitializationError.wrongCount(expected: 4, actual: 3).description
                == "initial values must have exactly 4 entries (one per parameter), got 3")
    }

    @Test("values that are NaN or infinite are refused, naming the first such index")
    func nonFiniteValuesAreRefused() {
        var random = RandomSource(seed: 1)
        #expect(throws: InitializationError.nonFinite(index: 1)) {
            try Initialization.values([0, .nan, .infinity]).parameters(count: 3, random: &random)
        }
        #expect(throws: InitializationError.nonFinite(index: 2)) {
            try Initialization.values([0, 1, -.infinity]).parameters(count: 3, random: &random)
        }
    }

    @Test("a negative or non-finite scale is refused")
    func invalidScalesAreRefused() throws {
        var random = RandomSource(seed: 1)
        #expect(throws: InitializationError.invalidScale(-1)) {
            try Initialization.normal(scale: -1).parameters(count: 2, random: &random)
        }
        #expect(throws: InitializationError.invalidScale(.infinity)) {
            try Initialization.uniform(scale: .infinity).parameters(count: 2, random: &random)
        }
        #expect(throws: InitializationError.self) {
            try Initialization.uniform(scale: .nan).parameters(count: 2, random: &random)
        }
        #expect(try Initialization.normal(scale: 0).parameters(count: 2, random: &random) == [0, 0])
    }
}
