import Foundation
import Testing

@testable import DescentMath

/// A formula that must be refused, with the exact error: its kind (what was found, what was expected, which
/// name) and its 1-based column.
struct ExpressionRefusal: Sendable, CustomTestStringConvertible {
    let formula: String
    let error: ExpressionError
    var variables = ["p", "y"]

    init(_ formula: String, _ kind: ExpressionError.Kind, column: Int, variables: [String] = ["p", "y"]) {
        self.formula = formula
        self.error = ExpressionError(kind, column: column)
        self.variables = variables
    }

    var testDescription: String { formula.count > 40 ? "\(formula.prefix(40))… (\(formula.count))" : formula }
}

/// The sentence every "a primary was wanted here" error carries.
private let primary = "a number, a variable, a function or \"(\""
private let afterOperand = "an operator or the end of the formula"

@Suite("Expression parser")
struct ExpressionParserTests {
    /// The error `formula` is refused with, or nil when it compiles.
    static func refusal(_ formula: String, variables: [String] = ["p", "y"]) -> ExpressionError? {
        do {
            _ = try ExpressionProgram(formula, variables: variables)
            return nil
        } catch {
            return error
        }
    }

    /// The value of a formula of x alone (the variable list keeps `e` and `pi` free for the constants).
    static func value(_ formula: String, x: Double = 0) throws -> Double {
        try ExpressionProgram(formula, variables: ["x"]).value(at: [x])
    }

    static let refusals: [ExpressionRefusal] = [
        // Unexpected tokens: an operator where an operand belongs, a character outside the language.
        ExpressionRefusal("p * * y", .unexpected(found: "\"*\"", expected: primary), column: 5),
        ExpressionRefusal("", .unexpected(found: "the end", expected: primary), column: 1),
        ExpressionRefusal("   ", .unexpected(found: "the end", expected: primary), column: 4),
        ExpressionRefusal("p +", .unexpected(found: "the end", expected: primary), column: 4),
        ExpressionRefusal("()", .unexpected(found: "\")\"", expected: primary), column: 2),
        ExpressionRefusal("max(p, )", .unexpected(found: "\")\"", expected: primary), column: 8),
        ExpressionRefusal("p , y", .unexpected(found: "\",\"", expected: afterOperand), column: 3),
        ExpressionRefusal(
            "p # y", .unexpected(found: "\"#\"", expected: "a number, a name or an operator"), column: 3),
        ExpressionRefusal("p = y", .unexpected(found: "\"=\"", expected: "a number, a name or an operator"), column: 3),
        ExpressionRefusal("p ! y", .unexpected(found: "\"!\"", expected: "a number, a name or an operator"), column: 3),
        // Columns count characters, not UTF-8 bytes: "×" is two bytes, "é" two, but one column each.
        ExpressionRefusal(
            "(p + y) \u{00D7} 2", .unexpected(found: "\"\u{00D7}\"", expected: "a number, a name or an operator"),
            column: 9),
        ExpressionRefusal(
            "\u{00E9}\u{00E9} + p $", .unexpected(found: "\"\u{00E9}\"", expected: "a number, a name or an operator"),
            column: 1),
        ExpressionRefusal(
            "p\u{00E9} + $", .unexpected(found: "\"\u{00E9}\"", expected: "a number, a name or an operator"),
            column: 2),
        // A missing ")".
        ExpressionRefusal("(p + y", .unexpected(found: "the end", expected: "\")\""), column: 7),
        ExpressionRefusal("(p y)", .unexpected(found: "\"y\"", expected: "\")\""), column: 4),
        ExpressionRefusal("((p + y) * 2", .unexpected(found: "the end", expected: "\")\""), column: 13),
        ExpressionRefusal("exp(p", .unexpected(found: "the end", expected: "\",\" or \")\""), column: 6),
        ExpressionRefusal("max(p, y", .unexpected(found: "the end", expected: "\",\" or \")\""), column: 9),
        ExpressionRefusal("max(p y)", .unexpected(found: "\"y\"", expected: "\",\" or \")\""), column: 7),
        // Trailing garbage after a whole formula.
        ExpressionRefusal("p y", .unexpected(found: "\"y\"", expected: afterOperand), column: 3),
        ExpressionRefusal("p)", .unexpected(found: "\")\"", expected: afterOperand), column: 2),
        ExpressionRefusal("(p + y))", .unexpected(found: "\")\"", expected: afterOperand), column: 8),
        ExpressionRefusal("2p", .unexpected(found: "\"p\"", expected: afterOperand), column: 2),
        ExpressionRefusal("2 3", .unexpected(found: "3", expected: afterOperand), column: 3),
        ExpressionRefusal("1.2.3", .unexpected(found: ".3", expected: afterOperand), column: 4),
        // `2e` is the number 2 followed by the constant e, not a truncated exponent.
        ExpressionRefusal("2e", .unexpected(found: "\"e\"", expected: afterOperand), column: 2),
        ExpressionRefusal("1e1e", .unexpected(found: "\"e\"", expected: afterOperand), column: 4),
        ExpressionRefusal("exp(p) log(y)", .unexpected(found: "\"log\"", expected: afterOperand), column: 8),
        // Unknown variables name themselves and the known ones.
        ExpressionRefusal("p + z", .unknownVariable("z", known: ["p", "y"]), column: 5),
        ExpressionRefusal("P", .unknownVariable("P", known: ["p", "y"]), column: 1),
        ExpressionRefusal("x1 * x3", .unknownVariable("x3", known: ["x1", "x2"]), column: 6, variables: ["x1", "x2"]),
        ExpressionRefusal("x", .unknownVariable("x", known: []), column: 1, variables: []),
        // Unknown functions, at the column of their name.
        ExpressionRefusal("foo(p)", .unknownFunction("foo"), column: 1),
        ExpressionRefusal("p + logg(y)", .unknownFunction("logg"), column: 5),
        ExpressionRefusal("Exp(p)", .unknownFunction("Exp"), column: 1),
        ExpressionRefusal("p(2)", .unknownFunction("p"), column: 1),
        // Wrong argument counts, at the column of the function's name.
        ExpressionRefusal("max(p)", .argumentCount(function: "max", expected: 2, found: 1), column: 1),
        ExpressionRefusal("exp(p, y)", .argumentCount(function: "exp", expected: 1, found: 2), column: 1),
        ExpressionRefusal("exp()", .argumentCount(function: "exp", expected: 1, found: 0), column: 1),
        ExpressionRefusal("p + pow(p)", .argumentCount(function: "pow", expected: 2, found: 1), column: 5),
        ExpressionRefusal("where(p > y, p)", .argumentCount(function: "where", expected: 3, found: 2), column: 1),
        ExpressionRefusal("min(p, y, 1)", .argumentCount(function: "min", expected: 2, found: 3), column: 1),
        // Numbers beyond a Double.
        ExpressionRefusal("1e400", .numberOutOfRange("1e400"), column: 1),
        ExpressionRefusal("p * 2.5E+309", .numberOutOfRange("2.5E+309"), column: 5),
        ExpressionRefusal(
            "y - " + String(repeating: "9", count: 400), .numberOutOfRange(String(repeating: "9", count: 400)),
            column: 5),
        // A function's name without its "(".
        ExpressionRefusal("exp + 1", .unexpected(found: "\"+\"", expected: "\"(\" after exp"), column: 5),
        ExpressionRefusal("p * log", .unexpected(found: "the end", expected: "\"(\" after log"), column: 8),
        ExpressionRefusal("where", .unexpected(found: "the end", expected: "\"(\" after where"), column: 6),
        ExpressionRefusal("sigmoid p", .unexpected(found: "\"p\"", expected: "\"(\" after sigmoid"), column: 9),
    ]

    @Test("every error class names its column, what was found and what was expected", arguments: refusals)
    func refusedFormulas(_ refusal: ExpressionRefusal) {
        #expect(Self.refusal(refusal.formula, variables: refusal.variables) == refusal.error)
    }

    @Test("messages name the unknown variable with the known ones, and the unknown function with the functions")
    func messages() throws {
        let variable = try #require(Self.refusal("p + z"))
        #expect(variable.description.contains("\"z\""))
        #expect(variable.description.contains("\"p\", \"y\""))
        #expect(variable.description.hasPrefix("column 5:"))
        let function = try #require(Self.refusal("foo(p)"))
        #expect(function.description.contains("\"foo\""))
        for name in ExpressionFunction.allCases { #expect(function.description.contains(name.rawValue)) }
        let unexpected = try #require(Self.refusal("(p + y"))
        #expect(unexpected.description == "column 7: expected \")\", found the end")
        let range = try #require(Self.refusal("1e400"))
        #expect(range.description.contains("1e400"))
    }

    @Test("a formula longer than maxLength characters is refused at the first character past the limit")
    func tooLong() throws {
        let limit = ExpressionParser.maxLength
        // "1+1+…+1" of exactly `limit` characters compiles; one more character does not.
        let longest = String(repeating: "1+", count: limit / 2 - 1) + "10"
        #expect(longest.count == limit)
        #expect(try Self.value(longest) == Double(limit / 2 - 1 + 10))
        let tooLong = longest + "0"
        let error = try #require(Self.refusal(tooLong))
        guard case .tooComplex = error.kind else {
            Issue.record("expected tooComplex, got \(error)")
            return
        }
        #expect(error.column == limit + 1)
        // The limit counts characters, not UTF-8 bytes: `limit` characters of which one takes two bytes pass
        // the length check and are refused by the tokenizer, at the two-byte character.
        let wide = String(repeating: " ", count: limit - 2) + "p\u{00E9}"
        #expect(
            Self.refusal(wide)
                == ExpressionError(
                    .unexpected(found: "\"\u{00E9}\"", expected: "a number, a name or an operator"), column: limit))
    }

    @Test("nesting deeper than maxDepth is refused where the level past the limit starts, for every kind of nesting")
    func tooDeep() throws {
        let depth = ExpressionParser.maxDepth
        // The whole formula is one level, and each "(" one more: maxDepth − 1 parentheses are the most.
        let deepest = String(repeating: "(", count: depth - 1) + "p" + String(repeating: ")", count: depth - 1)
        #expect(Self.refusal(deepest) == nil)
        let cases: [(formula: String, column: Int)] = [
            (String(repeating: "(", count: depth) + "p" + String(repeating: ")", count: depth), depth + 1),
            (String(repeating: "(", count: 500) + "p" + String(repeating: ")", count: 500), depth + 1),
            (String(repeating: "-", count: 150) + "p", depth + 1),
            (String(repeating: "exp(", count: 150) + "p" + String(repeating: ")", count: 150), 4 * depth + 1),
            (String(repeating: "2^", count: 150) + "p", 2 * depth + 1),
        ]
        for (formula, column) in cases {
            let error = try #require(Self.refusal(formula))
            guard case .tooComplex = error.kind else {
                Issue.record("expected tooComplex for \(formula.prefix(12))…, got \(error)")
                continue
            }
            #expect(error.column == column, "\(formula.prefix(12))…")
        }
    }

    @Test("a long flat chain within the length limit compiles and evaluates (no recursion limit is hit)")
    func longFlatChain() throws {
        let terms = ExpressionParser.maxLength / 2
        let chain = String(repeating: "p+", count: terms - 1) + "p"
        let program = try ExpressionProgram(chain, variables: ["p", "y"])
        let (value, gradient) = program.gradient(at: [0.5, 3])
        #expect(value == 0.5 * Double(terms))
        #expect(gradient == [Double(terms), 0])
    }

    @Test("^ is right-associative and binds tighter than unary minus; - and / are left-associative")
    func precedenceAndAssociativity() throws {
        #expect(try Self.value("2^3^2") == 512)
        #expect(try Self.value("(2^3)^2") == 64)
        #expect(try Self.value("-x^2", x: 3) == -9)
        #expect(try Self.value("(-x)^2", x: 3) == 9)
        #expect(try Self.value("-2^2") == -4)
        #expect(try Self.value("2^-1") == 0.5)
        #expect(try Self.value("2^-x^2", x: 1) == 0.5)
        #expect(try Self.value("1-2-3") == -4)
        #expect(try Self.value("8/4/2") == 1)
        #expect(try Self.value("2+3*4") == 14)
        #expect(try Self.value("(2+3)*4") == 20)
        #expect(try Self.value("2*3^2") == 18)
        #expect(try Self.value("-x*3", x: 2) == -6)
        #expect(try Self.value("2 - -x", x: 1) == 3)
        #expect(try Self.value("+x", x: 7) == 7)
        #expect(try Self.value("--x", x: 7) == 7)
        #expect(try Self.value("2*-x", x: 3) == -6)
        #expect(try Self.value("x\t+\n1", x: 1) == 2)
    }

    @Test("comparisons give 1 or 0, bind loosest, are left-associative, and drive where()")
    func comparisons() throws {
        // Each formula reads x = 1, so that none is folded whole into a constant at compile time.
        let cases: [(String, Double)] = [
            ("x < 2", 1), ("2 < x", 0), ("x <= 1", 1), ("2 <= x", 0), ("2 > x", 1), ("x > 1", 0),
            ("x >= 1", 1), ("0 >= x", 0), ("x == 1", 1), ("x == 2", 0), ("x != 2", 1), ("x != 1", 0),
            ("x + 1 == 2", 1), ("2 * 3 > 5*x", 1), ("3 > 2 > x", 0), ("x < 2 == 1", 1), ("x - 1 < 0 * x", 0),
            ("where(x - 1, 1, 2)", 2), ("where(-3*x, 1, 2)", 1), ("where(x > 2, 1, 2)", 2),
        ]
        for (formula, expected) in cases { #expect(try Self.value(formula, x: 1) == expected, "\(formula)") }
        for x in [-2.5, -1, 0.5, 4] {
            #expect(try Self.value("where(x > 0, x, -x)", x: x) == abs(x))
            #expect(try Self.value("x < 1", x: x) == (x < 1 ? 1 : 0))
            #expect(
                try Self.value("where(x >= 0.5, 10, 20) + (x == 4)", x: x) == (x >= 0.5 ? 10 : 20) + (x == 4 ? 1 : 0))
        }
    }

    @Test("numbers take leading dots, exponents with a sign and either case; e and pi are the constants")
    func numbersAndConstants() throws {
        let cases: [(String, Double)] = [
            (".5", 0.5), ("1e-3", 0.001), ("2.5E+4", 25_000), ("1E3", 1000), ("3.", 3), ("0.25e2", 25),
            ("007", 7), ("1e-400 + 1", 1), ("2*e", 2 * M_E), ("e", M_E), ("pi", Double.pi), ("2e1*e", 20 * M_E),
            ("log(e)", 1), ("cos(pi)", -1), ("e^2", M_E * M_E), ("-pi", -Double.pi), (".5e1", 5),
        ]
        for (formula, expected) in cases { #expect(try Self.value(formula) == expected, "\(formula)") }
        #expect(try Self.value("x*e", x: 2) == 2 * M_E)
    }

    @Test("a variable of the formula is read at its index, whatever the order of the list")
    func variablesByIndex() throws {
        let program = try ExpressionProgram("a - 10*b + 100*c", variables: ["c", "a", "b"])
        #expect(program.value(at: [1, 2, 3]) == 2 - 30 + 100)
        #expect(program.variables == ["c", "a", "b"])
        #expect(program.source == "a - 10*b + 100*c")
    }

    @Test("every function evaluates to its Foundation counterpart")
    func functionValues() throws {
        let x = 0.37
        let cases: [(String, Double)] = [
            ("exp(x)", Foundation.exp(x)), ("log(x)", Foundation.log(x)), ("log1p(x)", Foundation.log1p(x)),
            ("sqrt(x)", x.squareRoot()), ("abs(-x)", x), ("sin(x)", Foundation.sin(x)), ("cos(x)", Foundation.cos(x)),
            ("tan(x)", Foundation.tan(x)), ("tanh(x)", Foundation.tanh(x)),
            ("sigmoid(x)", 1 / (1 + Foundation.exp(-x))), ("softplus(x)", x + Foundation.log1p(Foundation.exp(-x))),
            ("min(x, 0.2)", 0.2), ("max(x, 0.2)", x), ("pow(x, 1.5)", Foundation.pow(x, 1.5)),
            ("x^1.5", Foundation.pow(x, 1.5)), ("where(x, 1, 2)", 1),
        ]
        for (formula, expected) in cases { #expect(try Self.value(formula, x: x) == expected, "\(formula)") }
    }
}
