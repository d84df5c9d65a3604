import Foundation

/// A formula compiled once into a flat tape, evaluated with exact derivatives by reverse-mode automatic
/// differentiation.
///
/// Why a tape and reverse mode, not symbolic differentiation: one forward sweep computes every intermediate
/// value, and one backward sweep over the same tape gives the derivative with respect to every variable at
/// once — for an objective of n variables that is the whole gradient for about the cost of two evaluations,
/// where symbolic differentiation would build and simplify n derivative formulas, which can grow much larger
/// than the formula itself (`exp(x*y*z)` has three derivatives that repeat it). The derivatives are exact
/// (no step size, no truncation), and each local rule is the textbook one.
///
/// The tape is in SSA form: instruction i writes slot i, reading only earlier slots, so both sweeps are
/// plain loops over an array — no tree, no dictionary, no `String` per row. Compilation folds constant
/// subtrees, shares repeated subexpressions, turns `x^2` into a multiplication, and marks which slots depend
/// on a differentiated variable, so the backward sweep skips the rest (`y`'s part of a loss, constants).
package final class ExpressionProgram: Sendable, CustomStringConvertible {
    enum Operation: UInt8, Sendable {
        case input, constant
        case add, subtract, multiply, divide, power, square, negate
        case less, lessOrEqual, greater, greaterOrEqual, equal, notEqual
        case exp, log, log1p, sqrt, abs, sin, cos, tan, tanh, sigmoid, softplus
        case min, max, select
    }

    struct Instruction: Hashable, Sendable {
        var operation: Operation
        var a: Int32 = -1
        var b: Int32 = -1
        var c: Int32 = -1
        /// The value of a `.constant`; the variable's index for an `.input`.
        var constant: Double = 0
    }

    /// The largest tape a formula may compile to.
    static let maxInstructions = 4096

    package let source: String
    package let variables: [String]
    let instructions: [Instruction]
    /// Slot i depends on a variable that is differentiated: the backward sweep visits only these.
    let active: [Bool]
    /// The slot holding the formula's value: not always the last one, as a formula can be a bare variable or
    /// fold to a constant already on the tape.
    let output: Int

    /// Parses and compiles `text` over `variables` (their order is the order of `evaluate`'s inputs and of
    /// the gradient). `differentiating`: the variables whose derivatives are wanted (default: all).
    package init(_ text: String, variables: [String], differentiating: Set<Int>? = nil) throws(ExpressionError) {
        let tree = try ExpressionParser.parse(text, variables: variables)
        var compiler = ExpressionCompiler()
        for index in variables.indices { compiler.emit(Instruction(operation: .input, constant: Double(index))) }
        output = Int(try compiler.compile(tree))
        source = text
        self.variables = variables
        instructions = compiler.instructions
        let wanted = differentiating ?? Set(variables.indices)
        var active = [Bool](repeating: false, count: compiler.instructions.count)
        for (slot, instruction) in compiler.instructions.enumerated() {
            switch instruction.operation {
            case .input: active[slot] = wanted.contains(Int(instruction.constant))
            case .constant, .less, .lessOrEqual, .greater, .greaterOrEqual, .equal, .notEqual:
                active[slot] = false  // comparisons are piecewise constant: no derivative flows through them
            default:
                active[slot] = [instruction.a, instruction.b, instruction.c].contains { $0 >= 0 && active[Int($0)] }
            }
        }
        self.active = active
    }

    /// Slots a caller's scratch must hold for `forward`/`backward`.
    package var slotCount: Int { instructions.count }

    package var description: String { source }
}

/// Turns a tree into instructions, bottom up, folding constants and sharing repeated subexpressions.
private struct ExpressionCompiler {
    typealias Instruction = ExpressionProgram.Instruction
    var instructions: [Instruction] = []
    private var existing: [Instruction: Int32] = [:]

    @discardableResult
    mutating func emit(_ instruction: Instruction) -> Int32 {
        // −0 and +0 are == (and hash alike) but are different constants (1/−0 is −∞): a zero is never shared.
        let shareable = !(instruction.operation == .constant && instruction.constant == 0)
        if shareable, let slot = existing[instruction] { return slot }
        let slot = Int32(instructions.count)
        instructions.append(instruction)
        existing[instruction] = slot
        return slot
    }

    mutating func compile(_ node: ExpressionNode) throws(ExpressionError) -> Int32 {
        guard instructions.count < ExpressionProgram.maxInstructions else {
            throw ExpressionError(
                .tooComplex("the formula compiles to more than \(ExpressionProgram.maxInstructions) steps"), column: 1)
        }
        switch node {
        case .constant(let value):
            return emit(Instruction(operation: .constant, constant: value))
        case .variable(let index):
            return Int32(index)
        case .negate(let operand):
            return fold(Instruction(operation: .negate, a: try compile(operand)))
        case .binary(.power, let base, .constant(2)):
            let slot = try compile(base)
            return fold(Instruction(operation: .square, a: slot))
        case .binary(let op, let left, let right):
            let a = try compile(left)
            let b = try compile(right)
            return fold(Instruction(operation: Self.operation(op), a: a, b: b))
        case .call(let function, let arguments):
            var slots: [Int32] = []
            for argument in arguments { slots.append(try compile(argument)) }
            if function == .pow, case .constant(2) = arguments[1] {
                return fold(Instruction(operation: .square, a: slots[0]))
            }
            var instruction = Instruction(operation: Self.operation(function))
            instruction.a = slots[0]
            if slots.count > 1 { instruction.b = slots[1] }
            if slots.count > 2 { instruction.c = slots[2] }
            return fold(instruction)
        }
    }

    /// Emits `instruction`, or, when all its operands are constants, the constant it computes.
    private mutating func fold(_ instruction: Instruction) -> Int32 {
        let operands = [instruction.a, instruction.b, instruction.c].filter { $0 >= 0 }
        guard operands.allSatisfy({ instructions[Int($0)].operation == .constant }) else { return emit(instruction) }
        let values = operands.map { instructions[Int($0)].constant }
        let value = ExpressionProgram.apply(
            instruction.operation, values[0], values.count > 1 ? values[1] : 0, values.count > 2 ? values[2] : 0)
        return emit(Instruction(operation: .constant, constant: value))
    }

    private static func operation(_ op: BinaryOperator) -> ExpressionProgram.Operation {
        switch op {
        case .add: .add
        case .subtract: .subtract
        case .multiply: .multiply
        case .divide: .divide
        case .power: .power
        case .less: .less
        case .lessOrEqual: .lessOrEqual
        case .greater: .greater
        case .greaterOrEqual: .greaterOrEqual
        case .equal: .equal
        case .notEqual: .notEqual
        }
    }

    private static func operation(_ function: ExpressionFunction) -> ExpressionProgram.Operation {
        switch function {
        case .exp: .exp
        case .log: .log
        case .log1p: .log1p
        case .sqrt: .sqrt
        case .abs: .abs
        case .sin: .sin
        case .cos: .cos
        case .tan: .tan
        case .tanh: .tanh
        case .sigmoid: .sigmoid
        case .softplus: .softplus
        case .min: .min
        case .max: .max
        case .pow: .power
        case .where: .select
        }
    }
}
