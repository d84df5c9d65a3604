import DescentJSON
import DescentJobs

/// The dataset resource (API.md, "Datasets").
extension DatasetRecord {
    var json: JSONValue {
        [
            "id": .string(id),
            "name": name.map(JSONValue.string) ?? .null,
            "rows": JSONValue(dataset.rows),
            "columns": JSONValue(dataset.columns),
            "feature_names": .array(featureNames.map(JSONValue.string)),
            "created_at": .string(Timestamp.format(createdAt)),
            "bytes": JSONValue(bytes),
            "sha256": .string(sha256),
            "target_summary": [
                "min": .number(targetSummary.min),
                "max": .number(targetSummary.max),
                "mean": .number(targetSummary.mean),
                "distinct": JSONValue(targetSummary.distinct),
            ],
        ]
    }
}
