// libFuzzer target for the JSON parser (Sources/DescentJSON) and the job-spec decoder (Sources/DescentJobs/Spec).
// Built into the DescentJobs module from the Spec sources alone, with DescentJSON and DescentMath compiled as
// modules of their own (see scripts/fuzz.sh), so internal and `package` declarations are visible.
//
// Input: a request body, as `POST /v1/jobs` receives it. It goes through JSONParser, then (an object) through
// JobSpec.decode as the service calls it (objective mode without a dataset id), then, decoded, through what the
// service does next: `training(on:)` a small dataset, or `minimizer()` in objective mode. Checks:
//   - a parse error points inside the body (its offset) with a well-formed JSON Pointer; a parsed document
//     serializes (JSONWriter) to text that parses back to the same document and serializes to the same bytes;
//   - a refused spec names at least one field, each with a JSON Pointer whose parent is in the body (a field
//     that must be there may itself be missing) and a sentence;
//   - a decoded spec echoes (`json`, what the job resource shows and the store keeps) to a document that
//     decodes to an equal spec with an identical echo: what a restart relies on;
//   - training on a dataset every model fits refuses only what the data reveals (a warm start of the wrong
//     length, a batch larger than the rows), and a decoded objective always makes a minimizer.

import DescentJSON
import DescentMath
import Foundation

private func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    guard !condition else { return }
    // Printed also in -O builds (where `precondition` drops the message), so that libFuzzer's log says which
    // invariant broke.
    FileHandle.standardError.write(Data("FuzzJobSpec invariant broken: \(message())\n".utf8))
    fatalError("FuzzJobSpec invariant broken")
}

/// FUZZ_TRACE=1: print each body's outcome, to see what the seeds (run as `.build/fuzz-jobspec FILE…`) reach.
private let trace = ProcessInfo.processInfo.environment["FUZZ_TRACE"] == "1"

private let datasetID = "ds_fuzz"

/// Four rows that every model accepts: 0/1 labels for logistic, classes 0 and 1 for softmax, counts for poisson.
private let dataset: Dataset = {
    guard let dataset = try? Dataset(rows: [[0.5, 1], [1, -2], [-1.5, 0.25], [2, 2]], targets: [0, 1, 1, 0]) else {
        fatalError("the fuzz dataset")
    }
    return dataset
}()

/// A JSON Pointer (RFC 6901) is "" or "/"-separated tokens; compared by bytes, since "/" and a combining mark
/// after it are one Character.
private func isPointer(_ pointer: String) -> Bool {
    pointer.isEmpty || pointer.utf8.first == UInt8(ascii: "/")
}

/// The value `pointer` names in `document`, or nil.
private func resolve(_ pointer: String, in document: JSONValue) -> JSONValue? {
    guard !pointer.isEmpty else { return document }
    var value = document
    for token in pointer.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst() {
        let key = String(decoding: token, as: UTF8.self).replacingOccurrences(of: "~1", with: "/")
            .replacingOccurrences(of: "~0", with: "~")
        switch value {
        case .object(let object):
            guard let member = object.members.first(where: { $0.key.utf8.elementsEqual(key.utf8) }) else {
                return nil
            }
            value = member.value
        case .array(let elements):
            guard let index = Int(key), elements.indices.contains(index), String(index) == key else { return nil }
            value = elements[index]
        default:
            return nil
        }
    }
    return value
}

private func parent(of pointer: String) -> String {
    guard let slash = pointer.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "" }
    return String(pointer[..<slash])
}

private func checkJSON(_ bytes: [UInt8]) -> JSONValue? {
    let document: JSONValue
    do {
        document = try JSONParser.parse(bytes)
    } catch {
        check(error.offset >= 0 && error.offset <= bytes.count, "offset \(error.offset) of \(bytes.count): \(error)")
        check(isPointer(error.pointer), "a malformed pointer: \(error)")
        check(!error.detail.isEmpty, "an error without a detail")
        return nil
    }
    let written = JSONWriter.bytes(document)
    guard let reread = try? JSONParser.parse(written) else {
        check(false, "JSONWriter wrote what JSONParser refuses: \(String(decoding: written, as: UTF8.self))")
        return nil
    }
    check(reread == document, "written and read again, the document changed")
    check(JSONWriter.bytes(reread) == written, "written twice, different bytes")
    return document
}

/// Resolves a refusal's pointers against the body.
private func checkRefusal(_ error: SpecError, in document: JSONValue) {
    check(!error.fields.isEmpty, "a SpecError without fields")
    for field in error.fields {
        check(isPointer(field.pointer), "a malformed pointer \(field.pointer.debugDescription)")
        check(!field.detail.isEmpty, "no detail at \(field.pointer)")
        check(
            resolve(parent(of: field.pointer), in: document) != nil,
            "\(field.pointer.debugDescription) (\(field.detail)) is not in the body")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let document = checkJSON(bytes), case .object(let body) = document else { return 0 }

    // As JobSubmission does: objective mode has no dataset.
    let objectiveMode = body["objective"] != nil
    let spec: JobSpec
    do {
        spec = try JobSpec.decode(body, datasetID: objectiveMode ? "" : datasetID)
    } catch {
        if trace { print("refused: \(error.fields.map { "\($0.pointer): \($0.detail)" })") }
        checkRefusal(error, in: document)
        return 0
    }
    if trace { print("decoded: \(JSONWriter.string(spec.json))") }
    check((spec.objective != nil) == objectiveMode, "objective mode changed")
    check(spec.datasetID == (objectiveMode ? "" : datasetID), "the dataset id changed")

    // The echo decodes to the same spec, and echoes the same bytes.
    let echo = JSONWriter.bytes(spec.json)
    guard let echoed = try? JSONParser.parse(echo), case .object(let echoBody) = echoed else {
        check(false, "the echo is not a JSON object: \(String(decoding: echo, as: UTF8.self))")
        return 0
    }
    do {
        let again = try JobSpec.decode(echoBody, datasetID: spec.datasetID)
        check(again == spec, "the echo decodes to a different spec:\n  \(spec)\n  \(again)")
        check(JSONWriter.bytes(again.json) == echo, "the echo of the echo differs")
    } catch {
        check(false, "the echo is refused: \(error.fields) for \(String(decoding: echo, as: UTF8.self))")
    }

    if objectiveMode {
        do {
            _ = try spec.minimizer()
        } catch {
            check(false, "a decoded objective makes no minimizer: \(error.fields)")
        }
    } else {
        do {
            let (model, configuration) = try spec.training(on: dataset)
            check(configuration.stopping == spec.stopping, "the stopping rules changed")
            if case .values(let values) = spec.initial {
                check(values.count == model.parameterCount, "a warm start of the wrong length passed")
            }
        } catch {
            check(
                error.fields.allSatisfy { ["/init/values", "/optimizer/batch_size"].contains($0.pointer) },
                "training refused a spec for a reason decoding should have found: \(error.fields)")
        }
    }
    return 0
}
