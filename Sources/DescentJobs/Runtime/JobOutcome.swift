import DescentMath

/// What a finished run leaves: the result of API.md's job resource, in the units of the uploaded features.
package struct JobOutcome: Sendable {
    /// K rows of d weights (K = 1 except for softmax) and K intercepts.
    package var weights: [[Double]]
    package var intercepts: [Double]
    package var loss: Double
    package var iterations: Int
    package var converged: Bool
    package var stopReason: StopReason
    package var validationLoss: Double?
    package var lipschitz: Double?
    package var reference: Reference?
    /// θ along the way, for `/trajectory`.
    package var trajectory: [TrajectoryPoint]

    /// The exact optimum of a linear least-squares job, and how far the run ended from it.
    package struct Reference: Sendable, Equatable {
        package var loss: Double
        /// ‖(w, b) − (w*, b*)‖ in the units of the uploaded features.
        package var weightsDistance: Double
    }

    package struct TrajectoryPoint: Sendable {
        package var iteration: Int
        package var weights: [[Double]]
        package var intercepts: [Double]
    }
}

/// Why a job failed, as a problem the job resource carries in `error`.
package struct JobFailure: Sendable, Equatable {
    package var status: Int
    package var title: String
    package var detail: String

    package static func unprocessable(_ detail: String) -> JobFailure {
        JobFailure(status: 422, title: "Unprocessable Content", detail: detail)
    }
}
