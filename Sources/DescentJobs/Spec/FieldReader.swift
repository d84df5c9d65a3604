import DescentJSON

/// Reads typed fields out of a JSON object, collecting an error (with its pointer) for each field that is
/// missing, of the wrong type or out of range, so that one answer can name every mistake at once.
struct FieldReader {
    private(set) var errors: [SpecError.Field] = []

    mutating func fail(_ pointer: String, _ detail: String) {
        errors.append(SpecError.Field(pointer: pointer, detail: detail))
    }

    /// Flags every member of `object` that is not in `known`: typos must not pass silently.
    mutating func rejectUnknown(_ object: JSONObject, known: [String], at pointer: String) {
        for key in object.keys where !known.contains(key) {
            let expected = known.map { "\"\($0)\"" }.joined(separator: ", ")
            fail(
                pointer + "/" + escapePointerToken(key),
                known.isEmpty
                    ? "unknown field \"\(key)\"; this object takes no fields"
                    : "unknown field \"\(key)\"; expected one of \(expected)")
        }
    }

    /// The object at `key`, nil when absent or null; an error when it is something else.
    mutating func object(_ parent: JSONObject, _ key: String, at pointer: String) -> JSONObject? {
        switch parent[key] {
        case nil, .null?: return nil
        case .object(let object)?: return object
        case let other?:
            fail(pointer + "/" + key, "must be an object, not \(other.kindDescription)")
            return nil
        }
    }

    /// A number at `key` (or `defaultValue` when absent), checked by `rule`, which returns what is wrong.
    mutating func number(
        _ parent: JSONObject, _ key: String, at pointer: String, default defaultValue: Double,
        _ rule: NumberRule = .any
    ) -> Double {
        guard let value = parent[key] else { return defaultValue }
        guard case .number(let number) = value else {
            fail(pointer + "/" + key, "must be a number, not \(value.kindDescription)")
            return defaultValue
        }
        if let problem = rule.check(number) {
            fail(pointer + "/" + key, problem)
            return defaultValue
        }
        return number
    }

    /// A number or null (absent reads as `defaultValue`).
    mutating func optionalNumber(
        _ parent: JSONObject, _ key: String, at pointer: String, default defaultValue: Double? = nil,
        _ rule: NumberRule = .any
    ) -> Double? {
        if case .null? = parent[key] { return nil }
        guard parent[key] != nil else { return defaultValue }
        return number(parent, key, at: pointer, default: defaultValue ?? 0, rule)
    }

    /// An integer in `range` at `key`.
    mutating func integer(
        _ parent: JSONObject, _ key: String, at pointer: String, default defaultValue: Int,
        in range: ClosedRange<Double>
    ) -> Int {
        let value = number(parent, key, at: pointer, default: Double(defaultValue), .integer(in: range))
        return Int(value)
    }

    mutating func bool(_ parent: JSONObject, _ key: String, at pointer: String, default defaultValue: Bool) -> Bool {
        guard let value = parent[key] else { return defaultValue }
        guard case .bool(let flag) = value else {
            fail(pointer + "/" + key, "must be true or false, not \(value.kindDescription)")
            return defaultValue
        }
        return flag
    }

    /// One of an enumeration's raw values.
    mutating func choice<Choice: RawRepresentable & CaseIterable>(
        _ value: JSONValue?, at pointer: String, default defaultValue: Choice
    ) -> Choice where Choice.RawValue == String {
        guard let value else { return defaultValue }
        let names = Choice.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        guard case .string(let name) = value else {
            fail(pointer, "must be one of \(names), not \(value.kindDescription)")
            return defaultValue
        }
        guard let choice = Choice(rawValue: name) else {
            fail(pointer, "\"\(name)\" is not one of \(names)")
            return defaultValue
        }
        return choice
    }

    /// An array of finite numbers.
    mutating func numbers(_ value: JSONValue, at pointer: String) -> [Double]? {
        guard case .array(let elements) = value else {
            fail(pointer, "must be an array of numbers, not \(value.kindDescription)")
            return nil
        }
        var numbers: [Double] = []
        numbers.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            guard case .number(let number) = element else {
                fail("\(pointer)/\(index)", "must be a number, not \(element.kindDescription)")
                return nil
            }
            numbers.append(number)
        }
        return numbers
    }
}

/// The range a numeric field must fall in; `check` says what is wrong, or nil.
enum NumberRule {
    case any
    case positive
    case nonNegative
    /// 0 < x < 1.
    case openUnit
    /// 0 ≤ x < 1.
    case halfOpenUnit
    case integer(in: ClosedRange<Double>)
    case within(ClosedRange<Double>)

    func check(_ value: Double) -> String? {
        switch self {
        case .any: return nil
        case .positive: return value > 0 ? nil : "must be > 0"
        case .nonNegative: return value >= 0 ? nil : "must be ≥ 0"
        case .openUnit: return value > 0 && value < 1 ? nil : "must be > 0 and < 1"
        case .halfOpenUnit: return value >= 0 && value < 1 ? nil : "must be ≥ 0 and < 1"
        case .integer(let range):
            guard value == value.rounded() else { return "must be an integer" }
            return range.contains(value)
                ? nil : "must be an integer from \(format(range.lowerBound)) to \(format(range.upperBound))"
        case .within(let range):
            return range.contains(value)
                ? nil : "must be from \(format(range.lowerBound)) to \(format(range.upperBound))"
        }
    }

    private func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : value.description
    }
}
