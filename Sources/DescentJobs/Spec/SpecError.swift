/// Everything wrong with a submitted spec: one entry per field at fault, each a JSON Pointer into the
/// request body with a sentence that says what is expected. The service answers it as a 400 problem.
package struct SpecError: Error, Sendable, Equatable {
    package struct Field: Sendable, Equatable {
        package var pointer: String
        package var detail: String

        package init(pointer: String, detail: String) {
            self.pointer = pointer
            self.detail = detail
        }
    }

    package var fields: [Field]

    package init(_ fields: [Field]) { self.fields = fields }

    package init(pointer: String, detail: String) { self.fields = [Field(pointer: pointer, detail: detail)] }
}
