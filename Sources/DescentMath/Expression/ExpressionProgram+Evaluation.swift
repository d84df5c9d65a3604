import Foundation

/// The two sweeps over the tape, and the convenience forms built on them.
extension ExpressionProgram {
    /// Forward sweep: writes every slot's value into `values` (`slotCount` of them) from `inputs` (one per
    /// variable) and returns the formula's value.
    @inline(__always)
    package func forward(_ inputs: UnsafePointer<Double>, values: UnsafeMutablePointer<Double>) -> Double {
        instructions.withUnsafeBufferPointer { tape in
            for slot in 0..<tape.count {
                let instruction = tape[slot]
                switch instruction.operation {
                case .input: values[slot] = inputs[Int(instruction.constant)]
                case .constant: values[slot] = instruction.constant
                default:
                    let a = values[Int(instruction.a)]
                    let b = instruction.b >= 0 ? values[Int(instruction.b)] : 0
                    let c = instruction.c >= 0 ? values[Int(instruction.c)] : 0
                    values[slot] = Self.apply(instruction.operation, a, b, c)
                }
            }
            return values[output]
        }
    }

    /// Backward sweep, after `forward` filled `values`: adds ∂f/∂xᵢ into `gradient[i]` for each
    /// differentiated variable i. `adjoints` is scratch of `slotCount` values.
    @inline(__always)
    package func backward(
        values: UnsafePointer<Double>, adjoints: UnsafeMutablePointer<Double>, gradient: UnsafeMutablePointer<Double>
    ) {
        let count = instructions.count
        adjoints.update(repeating: 0, count: count)
        adjoints[output] = 1
        instructions.withUnsafeBufferPointer { tape in
            active.withUnsafeBufferPointer { active in
                for slot in stride(from: count - 1, through: 0, by: -1) where active[slot] {
                    let adjoint = adjoints[slot]
                    let instruction = tape[slot]
                    if instruction.operation == .input {
                        gradient[Int(instruction.constant)] += adjoint
                        continue
                    }
                    guard adjoint != 0 else { continue }
                    let a = Int(instruction.a)
                    let b = Int(instruction.b)
                    let c = Int(instruction.c)
                    let value = values[slot]
                    let x = values[a]
                    switch instruction.operation {
                    case .input, .constant, .less, .lessOrEqual, .greater, .greaterOrEqual, .equal, .notEqual:
                        break
                    case .add:
                        adjoints[a] += adjoint
                        adjoints[b] += adjoint
                    case .subtract:
                        adjoints[a] += adjoint
                        adjoints[b] -= adjoint
                    case .multiply:
                        adjoints[a] += adjoint * values[b]
                        adjoints[b] += adjoint * x
                    case .divide:
                        adjoints[a] += adjoint / values[b]
                        adjoints[b] -= adjoint * x / (values[b] * values[b])
                    case .power:
                        let exponent = values[b]
                        // d/da aᵇ = b·aᵇ⁻¹; d/db aᵇ = aᵇ·log a, which is 0 in the limit at a = 0 (b > 0) and
                        // undefined for a < 0, where aᵇ itself is only real for integer b (held constant).
                        // (b = 0: aᵇ is constant 1, and 0·a⁻¹ would be NaN at a = 0.)
                        if active[a] && exponent != 0 {
                            adjoints[a] += adjoint * exponent * Foundation.pow(x, exponent - 1)
                        }
                        if active[b] { adjoints[b] += x > 0 ? adjoint * value * Foundation.log(x) : 0 }
                    case .square: adjoints[a] += adjoint * (2 * x)
                    case .negate: adjoints[a] -= adjoint
                    case .exp: adjoints[a] += adjoint * value
                    case .log: adjoints[a] += adjoint / x
                    case .log1p: adjoints[a] += adjoint / (1 + x)
                    case .sqrt: adjoints[a] += adjoint * 0.5 / value
                    case .abs: adjoints[a] += x > 0 ? adjoint : (x < 0 ? -adjoint : 0)
                    case .sin: adjoints[a] += adjoint * Foundation.cos(x)
                    case .cos: adjoints[a] -= adjoint * Foundation.sin(x)
                    case .tan: adjoints[a] += adjoint * (1 + value * value)
                    case .tanh: adjoints[a] += adjoint * (1 - value * value)
                    // σ(x)·σ(−x) rather than v(1 − v), which loses every digit as v → 1 (x ≳ 37 gives 0).
                    case .sigmoid: adjoints[a] += adjoint * value * Self.sigmoid(-x)
                    case .softplus: adjoints[a] += adjoint * Self.sigmoid(x)
                    case .min:
                        // The subgradient of the chosen argument (the first on a tie), like `where`.
                        if x <= values[b] { adjoints[a] += adjoint } else { adjoints[b] += adjoint }
                    case .max:
                        if x >= values[b] { adjoints[a] += adjoint } else { adjoints[b] += adjoint }
                    case .select:
                        if x != 0 { adjoints[b] += adjoint } else { adjoints[c] += adjoint }
                    }
                }
            }
        }
    }

    /// One operation on values. Stable forms where the naive one overflows: sigmoid and softplus.
    @inline(__always)
    static func apply(_ operation: Operation, _ a: Double, _ b: Double, _ c: Double) -> Double {
        switch operation {
        case .input, .constant: a
        case .add: a + b
        case .subtract: a - b
        case .multiply: a * b
        case .divide: a / b
        case .power: Foundation.pow(a, b)
        case .square: a * a
        case .negate: -a
        case .less: a < b ? 1 : 0
        case .lessOrEqual: a <= b ? 1 : 0
        case .greater: a > b ? 1 : 0
        case .greaterOrEqual: a >= b ? 1 : 0
        case .equal: a == b ? 1 : 0
        case .notEqual: a != b ? 1 : 0
        case .exp: Foundation.exp(a)
        case .log: Foundation.log(a)
        case .log1p: Foundation.log1p(a)
        case .sqrt: a.squareRoot()
        case .abs: Swift.abs(a)
        case .sin: Foundation.sin(a)
        case .cos: Foundation.cos(a)
        case .tan: Foundation.tan(a)
        case .tanh: Foundation.tanh(a)
        case .sigmoid: sigmoid(a)
        case .softplus: a > 0 ? a + Foundation.log1p(Foundation.exp(-a)) : Foundation.log1p(Foundation.exp(a))
        case .min: Swift.min(a, b)
        case .max: Swift.max(a, b)
        case .select: a != 0 ? b : c
        }
    }

    @inline(__always)
    static func sigmoid(_ x: Double) -> Double {
        if x >= 0 { return 1 / (1 + Foundation.exp(-x)) }
        let e = Foundation.exp(x)
        return e / (1 + e)
    }

    /// f at `point` (one value per variable).
    package func value(at point: [Double]) -> Double {
        precondition(point.count == variables.count)
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: slotCount) { values in
            point.withUnsafeBufferPointer { forward($0.baseAddress!, values: values.baseAddress!) }
        }
    }

    /// f and ∇f at `point`; entries of variables that are not differentiated are 0.
    package func gradient(at point: [Double]) -> (value: Double, gradient: [Double]) {
        precondition(point.count == variables.count)
        var gradient = [Double](repeating: 0, count: variables.count)
        let value = withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * slotCount) { scratch in
            let values = scratch.baseAddress!
            let value = point.withUnsafeBufferPointer { forward($0.baseAddress!, values: values) }
            gradient.withUnsafeMutableBufferPointer {
                backward(values: values, adjoints: values + slotCount, gradient: $0.baseAddress!)
            }
            return value
        }
        return (value, gradient)
    }
}
