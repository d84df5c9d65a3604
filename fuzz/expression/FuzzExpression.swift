// libFuzzer target for the formula language (Sources/DescentMath/Expression). Built into the DescentMath
// module itself from the Expression sources alone (see scripts/fuzz.sh), so internal and `package`
// declarations are visible without an import and OpenBLAS is not needed.
//
// Input: the bytes as UTF-8 (invalid sequences become U+FFFD). Each input is parsed and compiled over the
// variables p, y, x. A refusal must name a column inside the formula (or just past its end). A compiled
// formula is evaluated at a fixed point, value and gradient, and checked against:
//   - an independent tree walk of the parsed formula (no folding, no sharing, no tape): the tape must give
//     bit for bit the same value (the same operations in the same order), so constant folding, the sharing of
//     repeated subexpressions and the x^2 → x·x rewrite cannot change a result. FUZZ_ORACLE=0 turns this off
//     (then only crashes, hangs and the checks below count);
//   - value(at:) and gradient(at:) agreeing, and a program that differentiates p alone giving the same ∂/∂p
//     as one that differentiates everything, with 0 for the others.

import Foundation

private func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    guard !condition else { return }
    // Printed also in -O builds (where `precondition` drops the message), so that libFuzzer's log says which
    // invariant broke.
    FileHandle.standardError.write(Data("FuzzExpression invariant broken: \(message())\n".utf8))
    fatalError("FuzzExpression invariant broken")
}

private let variables = ["p", "y", "x"]
private let point = [0.75, -1.5, 2.0]
private let oracle = ProcessInfo.processInfo.environment["FUZZ_ORACLE"] != "0"

/// Equal bit for bit, or both NaN (whose payloads may differ).
private func same(_ a: Double, _ b: Double) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }

/// The formula's value by walking its tree, with the tape's own operations (`ExpressionProgram.apply`) and its
/// one rewrite (a constant exponent 2 is a multiplication), but none of its folding or sharing.
private func walk(_ node: ExpressionNode) -> Double {
    typealias Operation = ExpressionProgram.Operation
    switch node {
    case .constant(let value): return value
    case .variable(let index): return point[index]
    case .negate(let operand): return ExpressionProgram.apply(.negate, walk(operand), 0, 0)
    case .binary(.power, let base, .constant(2)):
        return ExpressionProgram.apply(.square, walk(base), 0, 0)
    case .binary(let op, let left, let right):
        let operation: Operation
        switch op {
        case .add: operation = .add
        case .subtract: operation = .subtract
        case .multiply: operation = .multiply
        case .divide: operation = .divide
        case .power: operation = .power
        case .less: operation = .less
        case .lessOrEqual: operation = .lessOrEqual
        case .greater: operation = .greater
        case .greaterOrEqual: operation = .greaterOrEqual
        case .equal: operation = .equal
        case .notEqual: operation = .notEqual
        }
        return ExpressionProgram.apply(operation, walk(left), walk(right), 0)
    case .call(let function, let arguments):
        let values = arguments.map(walk)
        let operation: Operation
        switch function {
        case .exp: operation = .exp
        case .log: operation = .log
        case .log1p: operation = .log1p
        case .sqrt: operation = .sqrt
        case .abs: operation = .abs
        case .sin: operation = .sin
        case .cos: operation = .cos
        case .tan: operation = .tan
        case .tanh: operation = .tanh
        case .sigmoid: operation = .sigmoid
        case .softplus: operation = .softplus
        case .min: operation = .min
        case .max: operation = .max
        case .pow:
            if case .constant(2) = arguments[1] { return ExpressionProgram.apply(.square, values[0], 0, 0) }
            operation = .power
        case .where: operation = .select
        }
        return ExpressionProgram.apply(
            operation, values[0], values.count > 1 ? values[1] : 0, values.count > 2 ? values[2] : 0)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let length = text.unicodeScalars.count
    let program: ExpressionProgram
    do {
        program = try ExpressionProgram(text, variables: variables)
    } catch {
        check(error.column >= 1 && error.column <= length + 1, "column \(error.column) of \(length): \(error)")
        check(!error.description.isEmpty, "an empty description")
        return 0
    }
    check(length <= ExpressionParser.maxLength, "a formula of \(length) characters compiled")
    check(program.slotCount <= ExpressionProgram.maxInstructions, "\(program.slotCount) instructions")

    let value = program.value(at: point)
    let (gradientValue, gradient) = program.gradient(at: point)
    check(same(value, gradientValue), "value(at:) \(value) but gradient(at:) \(gradientValue)")
    check(gradient.count == variables.count, "\(gradient.count) gradient entries")

    // Differentiating p alone: the same ∂/∂p (the same adjoints reach p), and nothing for y and x.
    guard let partial = try? ExpressionProgram(text, variables: variables, differentiating: [0]) else {
        fail("compiled once but not twice")
    }
    let (partialValue, partialGradient) = partial.gradient(at: point)
    check(same(partialValue, value), "differentiating p alone changed the value: \(partialValue) vs \(value)")
    check(same(partialGradient[0], gradient[0]), "∂/∂p \(partialGradient[0]) alone, \(gradient[0]) with all")
    check(partialGradient[1] == 0 && partialGradient[2] == 0, "undifferentiated entries \(partialGradient)")

    if oracle {
        guard let tree = try? ExpressionParser.parse(text, variables: variables) else { fail("parsed once only") }
        let walked = walk(tree)
        check(same(value, walked), "the tape gives \(value), the tree \(walked), for \(text.debugDescription)")
    }
    return 0
}

private func fail(_ message: String) -> Never {
    check(false, message)
    fatalError()
}
