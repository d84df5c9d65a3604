import Testing

@testable import DescentMath

@Suite("Linear algebra backend")
struct LinearAlgebraBackendTests {
    @Test("the linked BLAS is OpenBLAS and reports at least one thread")
    func reportsOpenBLAS() {
        #expect(LinearAlgebraBackend.description.hasPrefix("OpenBLAS"))
        #expect(LinearAlgebraBackend.threadCount >= 1)
    }
}
