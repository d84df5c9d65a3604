"""Schemathesis hooks for the contract run (scripts/e2e-test.sh loads this with SCHEMATHESIS_HOOKS).

Schemathesis knows JSON and YAML bodies, and validates each SSE event against the schema itself; an
`application/x-ndjson` body it cannot read without help (TESTING.md). Here it becomes the list of its lines'
JSON values, which openapi.yaml describes as an array of the per-line schema.
"""

import json

import schemathesis


@schemathesis.deserializer("application/x-ndjson")
def deserialize_ndjson(ctx, response):
    text = response.content.decode("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]
