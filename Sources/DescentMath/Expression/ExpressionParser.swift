/// A parsed formula: a tree of constants, variables (by index), operators and calls.
indirect enum ExpressionNode: Equatable, Sendable {
    case constant(Double)
    case variable(Int)
    case negate(ExpressionNode)
    case binary(BinaryOperator, ExpressionNode, ExpressionNode)
    case call(ExpressionFunction, [ExpressionNode])
}

enum BinaryOperator: String, Sendable {
    case add = "+"
    case subtract = "-"
    case multiply = "*"
    case divide = "/"
    case power = "^"
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
    case equal = "=="
    case notEqual = "!="

    /// Left and right binding powers (Pratt): comparisons < `+ -` < `* /` < unary minus < `^`, which is
    /// right-associative (`2^3^2` is `2^(3^2)`, `-x^2` is `-(x^2)`).
    var bindingPowers: (left: Int, right: Int) {
        switch self {
        case .less, .lessOrEqual, .greater, .greaterOrEqual, .equal, .notEqual: (10, 11)
        case .add, .subtract: (20, 21)
        case .multiply, .divide: (30, 31)
        case .power: (50, 49)
        }
    }
}

/// A hand-written Pratt parser over `ExpressionLexer`'s tokens. Every error names the column, what was
/// found and what was expected there.
///
/// Grammar, loosest first: comparison (`<`, `<=`, `>`, `>=`, `==`, `!=`; 1 when true, 0 when false) <
/// `+ -` < `* /` < unary `-`/`+` < `^`; primaries are numbers, variables, the constants `pi` and `e`,
/// `( … )` and calls `name(arg, …)` of `ExpressionFunction`s.
struct ExpressionParser {
    /// Longer formulas are refused: a loss or an objective is a line, not a program, and the limits keep the
    /// compiler's recursion (one frame per nesting level) far from the end of a worker thread's stack.
    static let maxLength = 2000
    static let maxDepth = 100

    private let tokens: [ExpressionToken]
    private let variables: [String]
    private var position = 0
    private var depth = 0

    init(tokens: [ExpressionToken], variables: [String]) {
        self.tokens = tokens
        self.variables = variables
    }

    static func parse(_ text: String, variables: [String]) throws(ExpressionError) -> ExpressionNode {
        guard text.unicodeScalars.count <= maxLength else {
            throw ExpressionError(
                .tooComplex("the formula is longer than \(maxLength) characters"), column: maxLength + 1)
        }
        var lexer = ExpressionLexer(text)
        var parser = ExpressionParser(tokens: try lexer.tokens(), variables: variables)
        let node = try parser.expression(minimum: 0)
        guard case .end = parser.current.kind else {
            throw parser.unexpected("an operator or the end of the formula")
        }
        return node
    }

    private var current: ExpressionToken { tokens[position] }

    private mutating func advance() { if position < tokens.count - 1 { position += 1 } }

    private func unexpected(_ expected: String) -> ExpressionError {
        ExpressionError(.unexpected(found: current.text, expected: expected), column: current.column)
    }

    private mutating func expression(minimum: Int) throws(ExpressionError) -> ExpressionNode {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else {
            throw ExpressionError(
                .tooComplex("the formula nests deeper than \(Self.maxDepth) levels"), column: current.column)
        }
        var left = try prefix()
        while case .symbol(let symbol) = current.kind, let op = BinaryOperator(rawValue: symbol),
            op.bindingPowers.left > minimum
        {
            advance()
            let right = try expression(minimum: op.bindingPowers.right)
            left = .binary(op, left, right)
        }
        return left
    }

    private mutating func prefix() throws(ExpressionError) -> ExpressionNode {
        let token = current
        switch token.kind {
        case .number(let value):
            advance()
            return .constant(value)
        case .identifier(let name):
            advance()
            if case .symbol("(") = current.kind { return try call(name, at: token.column) }
            if let index = variables.firstIndex(of: name) { return .variable(index) }
            switch name {
            case "pi": return .constant(Double.pi)
            case "e": return .constant(2.718281828459045)
            default:
                if ExpressionFunction(rawValue: name) != nil {
                    throw ExpressionError(
                        .unexpected(found: current.text, expected: "\"(\" after \(name)"), column: current.column)
                }
                throw ExpressionError(.unknownVariable(name, known: variables), column: token.column)
            }
        case .symbol("("):
            advance()
            let inner = try expression(minimum: 0)
            guard case .symbol(")") = current.kind else { throw unexpected("\")\"") }
            advance()
            return inner
        case .symbol("-"):
            advance()
            return .negate(try expression(minimum: 40))
        case .symbol("+"):
            advance()
            return try expression(minimum: 40)
        default:
            throw unexpected("a number, a variable, a function or \"(\"")
        }
    }

    private mutating func call(_ name: String, at column: Int) throws(ExpressionError) -> ExpressionNode {
        guard let function = ExpressionFunction(rawValue: name) else {
            throw ExpressionError(.unknownFunction(name), column: column)
        }
        advance()  // "("
        var arguments: [ExpressionNode] = []
        if case .symbol(")") = current.kind {
            advance()
        } else {
            while true {
                arguments.append(try expression(minimum: 0))
                if case .symbol(",") = current.kind {
                    advance()
                    continue
                }
                guard case .symbol(")") = current.kind else { throw unexpected("\",\" or \")\"") }
                advance()
                break
            }
        }
        guard arguments.count == function.arity else {
            throw ExpressionError(
                .argumentCount(function: name, expected: function.arity, found: arguments.count), column: column)
        }
        return .call(function, arguments)
    }
}
