import DescentJSON
import DescentMath

/// Objective mode (API.md: "Or, to minimise a function"): f(x₁…xₙ) as a formula of named variables, where
/// the descent starts, how many seeded starts run, and the box random starts are drawn from.
package struct ObjectiveSpec: Sendable, Equatable {
    package var expression: String
    package var variables: [String]
    package var start: [Double]?
    package var starts = 1
    /// One [lower, upper] pair per variable.
    package var bounds: [ClosedRange<Double>]?

    /// Names a formula cannot use as variables: its constants and functions.
    private static let reserved = Set(["pi", "e"] + ExpressionFunction.allCases.map(\.rawValue))
    package static let maxVariables = 1000

    /// Reads `/objective`, naming every field at fault; the formula is compiled here, so a formula that does
    /// not parse is a 400 at `/objective/expression` with its column.
    package static func decode(_ value: JSONValue) throws(SpecError) -> ObjectiveSpec {
        var reader = FieldReader()
        let at = "/objective"
        guard case .object(let object) = value else {
            throw SpecError(pointer: at, detail: "must be an object with \"expression\" and \"variables\"")
        }
        reader.rejectUnknown(object, known: ["expression", "variables", "start", "starts", "bounds"], at: at)
        var spec = ObjectiveSpec(expression: "", variables: [])
        if case .string(let text)? = object["expression"] {
            spec.expression = text
        } else {
            reader.fail(at + "/expression", "required: a formula of the variables, e.g. \"(1-x)^2 + 100*(y-x^2)^2\"")
        }
        spec.variables = decodeVariables(object["variables"], &reader)
        let count = spec.variables.count
        if let start = object["start"], start != .null, let values = reader.numbers(start, at: at + "/start") {
            if values.count != count {
                reader.fail(at + "/start", "needs \(count) values, one per variable, not \(values.count)")
            }
            spec.start = values
        }
        spec.starts = reader.integer(object, "starts", at: at, default: 1, in: 1...Double(FunctionProblem.maxStarts))
        spec.bounds = decodeBounds(object["bounds"], count: count, &reader)
        if reader.errors.isEmpty {
            do throws(ExpressionError) {
                _ = try spec.program()
            } catch {
                reader.fail(at + "/expression", error.description)
            }
        }
        guard reader.errors.isEmpty else { throw SpecError(reader.errors) }
        return spec
    }

    private static func decodeVariables(_ value: JSONValue?, _ reader: inout FieldReader) -> [String] {
        let at = "/objective/variables"
        guard case .array(let elements)? = value, !elements.isEmpty, elements.count <= maxVariables else {
            reader.fail(at, "required: an array of 1 to \(maxVariables) variable names, e.g. [\"x\", \"y\"]")
            return []
        }
        var names: [String] = []
        for (index, element) in elements.enumerated() {
            guard case .string(let name) = element, isName(name) else {
                reader.fail("\(at)/\(index)", "must be a name of letters, digits and _, not starting with a digit")
                continue
            }
            if reserved.contains(name) {
                reader.fail("\(at)/\(index)", "\"\(name)\" is a constant or function of the formula language")
            } else if names.contains(name) {
                reader.fail("\(at)/\(index)", "\"\(name)\" is listed twice")
            }
            names.append(name)
        }
        return names
    }

    private static func decodeBounds(
        _ value: JSONValue?, count: Int, _ reader: inout FieldReader
    ) -> [ClosedRange<Double>]? {
        let at = "/objective/bounds"
        guard let value, value != .null else { return nil }
        guard case .array(let pairs) = value, pairs.count == count else {
            reader.fail(at, "must be an array of \(count) [lower, upper] pairs, one per variable")
            return nil
        }
        var ranges: [ClosedRange<Double>] = []
        for (index, pair) in pairs.enumerated() {
            guard let numbers = reader.numbers(pair, at: "\(at)/\(index)") else { return nil }
            guard numbers.count == 2, numbers[0] < numbers[1], numbers.allSatisfy(\.isFinite) else {
                reader.fail("\(at)/\(index)", "must be [lower, upper] with finite lower < upper")
                return nil
            }
            ranges.append(numbers[0]...numbers[1])
        }
        return ranges
    }

    private static func isName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, !(first >= "0" && first <= "9") else { return false }
        return text.unicodeScalars.allSatisfy {
            ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9") || $0 == "_"
        }
    }

    /// The compiled formula.
    package func program() throws(ExpressionError) -> ExpressionProgram {
        try ExpressionProgram(expression, variables: variables)
    }

    /// As the job resource echoes it, defaults included.
    package var json: JSONValue {
        [
            "expression": .string(expression),
            "variables": .array(variables.map { .string($0) }),
            "start": start.map { JSONValue($0) } ?? .null,
            "starts": JSONValue(starts),
            "bounds": bounds.map { ranges in .array(ranges.map { [.number($0.lowerBound), .number($0.upperBound)] }) }
                ?? .null,
        ]
    }
}
