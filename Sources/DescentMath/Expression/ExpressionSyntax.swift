/// The functions of the formula language, with their arity.
package enum ExpressionFunction: String, CaseIterable, Sendable {
    case exp, log, log1p, sqrt, abs, sin, cos, tan, tanh, sigmoid, softplus
    case min, max, pow
    case `where`

    var arity: Int {
        switch self {
        case .min, .max, .pow: 2
        case .where: 3
        default: 1
        }
    }
}

/// One token of a formula, with the column (1-based) where it starts.
struct ExpressionToken: Equatable {
    enum Kind: Equatable {
        case number(Double)
        case identifier(String)
        /// `+ - * / ^ ( ) ,` and the comparisons `< <= > >= == !=`.
        case symbol(String)
        case end
    }

    let kind: Kind
    let column: Int
    /// The text of the token, for error messages.
    let text: String
}

/// The tokenizer: numbers (`2`, `0.5`, `.5`, `1e-3`, `2.5E+4`), names (letters, digits and `_`, not starting
/// with a digit), operators and parentheses; spaces and tabs between them. Works on Unicode scalars, so a
/// column is a character position as a user counts it.
struct ExpressionLexer {
    private let scalars: [Unicode.Scalar]
    private var index = 0

    init(_ text: String) {
        scalars = Array(text.unicodeScalars)
    }

    mutating func tokens() throws(ExpressionError) -> [ExpressionToken] {
        var tokens: [ExpressionToken] = []
        while true {
            let token = try next()
            tokens.append(token)
            if token.kind == .end { return tokens }
        }
    }

    private mutating func next() throws(ExpressionError) -> ExpressionToken {
        while index < scalars.count, scalars[index] == " " || scalars[index] == "\t" || scalars[index] == "\n" {
            index += 1
        }
        let start = index
        let column = start + 1
        guard index < scalars.count else { return ExpressionToken(kind: .end, column: column, text: "the end") }
        let scalar = scalars[index]
        if Self.isDigit(scalar) || (scalar == "." && index + 1 < scalars.count && Self.isDigit(scalars[index + 1])) {
            return try number(from: start)
        }
        if Self.isNameStart(scalar) {
            while index < scalars.count, Self.isNameStart(scalars[index]) || Self.isDigit(scalars[index]) { index += 1 }
            let name = text(start..<index)
            return ExpressionToken(kind: .identifier(name), column: column, text: "\"\(name)\"")
        }
        index += 1
        let twoCharacter: Set<String> = ["<=", ">=", "==", "!="]
        if index < scalars.count, twoCharacter.contains(text(start..<(index + 1))) {
            index += 1
            let symbol = text(start..<index)
            return ExpressionToken(kind: .symbol(symbol), column: column, text: "\"\(symbol)\"")
        }
        let symbol = String(scalar)
        guard "+-*/^(),<>".unicodeScalars.contains(scalar) else {
            throw ExpressionError(
                .unexpected(found: "\"\(symbol)\"", expected: "a number, a name or an operator"), column: column)
        }
        return ExpressionToken(kind: .symbol(symbol), column: column, text: "\"\(symbol)\"")
    }

    private mutating func number(from start: Int) throws(ExpressionError) -> ExpressionToken {
        while index < scalars.count, Self.isDigit(scalars[index]) { index += 1 }
        if index < scalars.count, scalars[index] == "." {
            index += 1
            while index < scalars.count, Self.isDigit(scalars[index]) { index += 1 }
        }
        if index < scalars.count, scalars[index] == "e" || scalars[index] == "E" {
            // An exponent only when digits follow (`2e` would otherwise swallow the constant e in `2*e`).
            var probe = index + 1
            if probe < scalars.count, scalars[probe] == "+" || scalars[probe] == "-" { probe += 1 }
            if probe < scalars.count, Self.isDigit(scalars[probe]) {
                index = probe
                while index < scalars.count, Self.isDigit(scalars[index]) { index += 1 }
            }
        }
        let text = text(start..<index)
        guard let value = Double(text), value.isFinite else {
            throw ExpressionError(.numberOutOfRange(text), column: start + 1)
        }
        return ExpressionToken(kind: .number(value), column: start + 1, text: text)
    }

    private func text(_ range: Range<Int>) -> String {
        var string = ""
        string.unicodeScalars.append(contentsOf: scalars[range])
        return string
    }

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool { scalar >= "0" && scalar <= "9" }

    private static func isNameStart(_ scalar: Unicode.Scalar) -> Bool {
        (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || scalar == "_"
    }
}
