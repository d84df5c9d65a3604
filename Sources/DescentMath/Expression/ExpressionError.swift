/// Why a formula was refused, with the column (1-based, in characters) where the trouble starts.
package struct ExpressionError: Error, Equatable, Sendable, CustomStringConvertible {
    package enum Kind: Equatable, Sendable {
        /// Something other than what the grammar allows at this point.
        case unexpected(found: String, expected: String)
        /// A name that is neither a variable of the formula nor a constant.
        case unknownVariable(String, known: [String])
        /// A call of a function the language does not have.
        case unknownFunction(String)
        /// A function called with the wrong number of arguments.
        case argumentCount(function: String, expected: Int, found: Int)
        /// A number that does not fit a Double (e.g. `1e400`).
        case numberOutOfRange(String)
        /// The formula is longer or more deeply nested than the limits allow.
        case tooComplex(String)
    }

    package let kind: Kind
    package let column: Int

    package init(_ kind: Kind, column: Int) {
        self.kind = kind
        self.column = column
    }

    /// One sentence for a problem+json `detail`.
    package var description: String {
        switch kind {
        case .unexpected(let found, let expected):
            "column \(column): expected \(expected), found \(found)"
        case .unknownVariable(let name, let known):
            "column \(column): unknown variable \"\(name)\"; the variables are "
                + (known.isEmpty ? "none" : known.map { "\"\($0)\"" }.joined(separator: ", "))
                + ", and the constants \"pi\" and \"e\""
        case .unknownFunction(let name):
            "column \(column): unknown function \"\(name)\"; the functions are "
                + ExpressionFunction.allCases.map(\.rawValue).joined(separator: ", ")
        case .argumentCount(let function, let expected, let found):
            "column \(column): \(function) takes \(expected) argument\(expected == 1 ? "" : "s"), not \(found)"
        case .numberOutOfRange(let text):
            "column \(column): the number \(text) is out of range for a double"
        case .tooComplex(let reason):
            "column \(column): \(reason)"
        }
    }
}
