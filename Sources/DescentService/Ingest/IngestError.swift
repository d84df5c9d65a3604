/// Why a dataset body could not be read, and where: a JSON Pointer (RFC 6901) into a JSON body, or a 1-based
/// line (and the column's name in `detail`) of a CSV body. The HTTP layer turns it into a 400 problem.
package struct IngestError: Error, Equatable, Sendable {
    /// A JSON Pointer to the offending value, e.g. "/features/3/1"; "" is the whole document.
    package var pointer: String?
    /// The 1-based line of a CSV body.
    package var line: Int?
    /// What is wrong, in a sentence a client can act on.
    package var detail: String

    package init(pointer: String? = nil, line: Int? = nil, detail: String) {
        self.pointer = pointer
        self.line = line
        self.detail = detail
    }
}
