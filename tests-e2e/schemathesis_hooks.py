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


# Known server bugs, reported and not fixed yet. Each is matched as narrowly as it can be, printed when it is
# dropped, and to be deleted with its fix (the pytest suite has a strict xfail for each, which fails once the
# bug is fixed, as a reminder).
SEED_PAST_2_53 = 2**53 + 1  # read through a double it is 2^53, the largest valid seed; accepted, echoed as 2^53


@schemathesis.hook
def filter_failure(ctx, failure, case, response):
    body = case.body if isinstance(case.body, dict) else {}
    if (type(failure).__name__ == "AcceptedNegativeData" and case.operation.label == "POST /v1/jobs"
            and body.get("seed") == SEED_PAST_2_53 and "seed" in (failure.message or "")):
        print(f"[schemathesis_hooks] known server bug dropped: seed {SEED_PAST_2_53} accepted ({response.status_code})")
        return False
    return True
