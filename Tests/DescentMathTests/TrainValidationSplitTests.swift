import Testing

@testable import DescentMath

@Suite("Train/validation split")
struct TrainValidationSplitTests {
    private func indices(_ selection: RowSelection?) -> [Int] {
        guard case .indices(let indices) = selection else {
            Issue.record("expected an index list, got \(String(describing: selection))")
            return []
        }
        return indices
    }

    @Test("a fraction of 0 trains on all rows, has no validation set and draws nothing")
    func zeroFractionTrainsOnAll() throws {
        var random = RandomSource(seed: 1)
        let before = random
        let split = try TrainValidationSplit(rows: 10, validationFraction: 0, random: &random)
        #expect(split.training == .all)
        #expect(split.validation == nil)
        #expect(random == before)
    }

    @Test("the two sets are disjoint, cover every row, and are sorted ascending")
    func setsPartitionTheRows() throws {
        var random = RandomSource(seed: 2)
        let split = try TrainValidationSplit(rows: 1000, validationFraction: 0.2, random: &random)
        let training = indices(split.training)
        let validation = indices(split.validation)
        #expect(training.count == 800)
        #expect(validation.count == 200)
        #expect(Set(training).isDisjoint(with: validation))
        #expect((training + validation).sorted() == Array(0..<1000))
        #expect(training == training.sorted())
        #expect(validation == validation.sorted())
        // A random subset, not a block: held-out rows come from all over the dataset.
        #expect(validation.first! < 100 && validation.last! >= 900)
    }

    @Test("the validation size is f · n rounded to nearest")
    func validationSizeIsRounded() throws {
        for (rows, fraction, expected) in [(10, 0.25, 3), (10, 0.24, 2), (3, 0.5, 2), (7, 0.1, 1), (100, 0.333, 33)] {
            var random = RandomSource(seed: 3)
            let split = try TrainValidationSplit(rows: rows, validationFraction: fraction, random: &random)
            #expect(indices(split.validation).count == expected, "\(rows) rows, fraction \(fraction)")
            #expect(indices(split.training).count == rows - expected)
        }
    }

    @Test("the same seed gives the same split and a different seed a different one")
    func splitIsReproducible() throws {
        var a = RandomSource(seed: 9)
        var b = RandomSource(seed: 9)
        var c = RandomSource(seed: 10)
        let first = try TrainValidationSplit(rows: 500, validationFraction: 0.3, random: &a)
        #expect(first == (try TrainValidationSplit(rows: 500, validationFraction: 0.3, random: &b)))
        #expect(first != (try TrainValidationSplit(rows: 500, validationFraction: 0.3, random: &c)))
    }

    @Test("the validation set is the first round(f · n) rows of the seeded permutation")
    func validationIsAPrefixOfTheShuffle() throws {
        var random = RandomSource(seed: 42)
        var reference = random
        let split = try TrainValidationSplit(rows: 10, validationFraction: 0.3, random: &random)
        var permutation = Array(0..<10)
        reference.shuffle(&permutation)
        #expect(indices(split.validation) == permutation.prefix(3).sorted())
        #expect(random == reference)
    }

    @Test("every row is held out equally often over many seeds")
    func everyRowIsEquallyLikely() throws {
        // 10 rows, 3 held out, 10 000 splits: each row expected 3 000 times (binomial σ ≈ 46).
        var counts = [Int](repeating: 0, count: 10)
        var random = RandomSource(seed: 77)
        for _ in 0..<10_000 {
            let split = try TrainValidationSplit(rows: 10, validationFraction: 0.3, random: &random)
            for row in indices(split.validation) { counts[row] += 1 }
        }
        #expect(counts.allSatisfy { abs($0 - 3000) < 250 }, "counts \(counts)")
    }

    @Test("a fraction outside [0, 1) or NaN is refused")
    func fractionOutOfRangeIsRefused() {
        var random = RandomSource(seed: 1)
        for fraction in [-0.1, 1, 1.5, .infinity] {
            #expect(throws: SplitError.fractionOutOfRange(fraction)) {
                try TrainValidationSplit(rows: 10, validationFraction: fraction, random: &random)
            }
        }
        #expect(throws: SplitError.self) {
            try TrainValidationSplit(rows: 10, validationFraction: .nan, random: &random)
        }
        #expect(
            SplitError.fractionOutOfRange(1).description
                == "validation fraction must be at least 0 and less than 1, got 1.0")
    }

    @Test("a fraction that rounds to no validation rows or to no training rows is refused")
    func emptySidesAreRefused() {
        var random = RandomSource(seed: 1)
        #expect(throws: SplitError.validationEmpty(rows: 10, fraction: 0.01)) {
            try TrainValidationSplit(rows: 10, validationFraction: 0.01, random: &random)
        }
        #expect(throws: SplitError.trainingEmpty(rows: 10, fraction: 0.96)) {
            try TrainValidationSplit(rows: 10, validationFraction: 0.96, random: &random)
        }
        #expect(throws: SplitError.trainingEmpty(rows: 1, fraction: 0.5)) {
            try TrainValidationSplit(rows: 1, validationFraction: 0.5, random: &random)
        }
        #expect(throws: SplitError.noRows) {
            try TrainValidationSplit(rows: 0, validationFraction: 0.5, random: &random)
        }
    }

    @Test("the smallest splittable dataset has one row on each side")
    func twoRowsSplitOneAndOne() throws {
        var random = RandomSource(seed: 5)
        let split = try TrainValidationSplit(rows: 2, validationFraction: 0.5, random: &random)
        #expect(indices(split.training).count == 1)
        #expect(indices(split.validation).count == 1)
        #expect(Set(indices(split.training) + indices(split.validation)) == [0, 1])
    }
}
