/// A seeded partition of a dataset's rows into training and validation (issue 3, point 1).
///
/// For a fraction f in (0, 1) and n rows, the validation set is the first k = round(f · n) entries of a
/// uniformly random permutation of 0..<n (``RandomSource/shuffle(_:)``, Fisher–Yates), so it is a uniformly
/// random k-subset — simple random sampling without replacement — and the training set is the other n − k.
/// Rounding is to nearest, halves away from zero. Both lists are in ascending row order, so a full-batch
/// pass over either reads the feature buffer front to back; the random order only decides membership.
///
/// The split depends only on (n, f, the generator's state); with f = 0 it draws nothing.
package struct TrainValidationSplit: Sendable, Equatable {
    package let training: RowSelection
    /// nil when no validation set was asked for (f = 0).
    package let validation: RowSelection?

    /// Splits `rows` rows, holding out the fraction `validationFraction` for validation.
    package init(rows: Int, validationFraction: Double, random: inout RandomSource) throws(SplitError) {
        let validationCount = try Self.validationCount(rows: rows, validationFraction: validationFraction)
        guard validationCount > 0 else {
            training = .all
            validation = nil
            return
        }

        var permutation = Array(0..<rows)
        random.shuffle(&permutation)
        // Mark the held-out rows, then collect both sets in one ascending sweep: O(n), no sort needed.
        var isValidation = [Bool](repeating: false, count: rows)
        for row in permutation[..<validationCount] { isValidation[row] = true }
        var trainingRows: [Int] = []
        var validationRows: [Int] = []
        trainingRows.reserveCapacity(rows - validationCount)
        validationRows.reserveCapacity(validationCount)
        for row in 0..<rows {
            if isValidation[row] { validationRows.append(row) } else { trainingRows.append(row) }
        }
        training = .indices(trainingRows)
        validation = .indices(validationRows)
    }
}

extension TrainValidationSplit {
    /// How many of `rows` rows the split holds out: round(f · n), and 0 for f = 0. Throws exactly when the
    /// initializer would, without drawing anything, so that a fraction can be checked against the data first.
    package static func validationCount(rows: Int, validationFraction: Double) throws(SplitError) -> Int {
        guard rows > 0 else { throw .noRows }
        guard validationFraction >= 0, validationFraction < 1 else {
            throw .fractionOutOfRange(validationFraction)  // also NaN, which fails both comparisons
        }
        guard validationFraction > 0 else { return 0 }
        let validationCount = Int((validationFraction * Double(rows)).rounded())
        guard validationCount >= 1 else {
            throw .validationEmpty(rows: rows, fraction: validationFraction)
        }
        guard validationCount < rows else {
            throw .trainingEmpty(rows: rows, fraction: validationFraction)
        }
        return validationCount
    }
}

package enum SplitError: Error, Equatable, Sendable, CustomStringConvertible {
    /// There are no rows to split.
    case noRows
    /// The fraction is not in [0, 1) (or is NaN).
    case fractionOutOfRange(Double)
    /// round(f · n) is 0: the fraction is too small for this many rows to hold out even one.
    case validationEmpty(rows: Int, fraction: Double)
    /// round(f · n) is n: the fraction would leave no row to train on.
    case trainingEmpty(rows: Int, fraction: Double)

    package var description: String {
        switch self {
        case .noRows:
            "cannot split a dataset with no rows"
        case .fractionOutOfRange(let fraction):
            "validation fraction must be at least 0 and less than 1, got \(fraction)"
        case .validationEmpty(let rows, let fraction):
            "validation fraction \(fraction) of \(rows) rows rounds to 0 validation rows; "
                + "use a larger fraction or 0 for no validation set"
        case .trainingEmpty(let rows, let fraction):
            "validation fraction \(fraction) of \(rows) rows leaves no training rows; use a smaller fraction"
        }
    }
}
