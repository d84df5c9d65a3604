"""Checkpoint cost (issue 5): the same job with checkpoints every CHECKPOINT seconds and with none, on the
release binary, side by side, ROUNDS times each, alternating. Prints each run's server-side elapsed time
(result progress.elapsed_seconds) and the median overhead. Usage: bench/checkpoints.sh (builds, then runs this).
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

import numpy as np

BINARY = sys.argv[1]
ROUNDS = int(os.environ.get("ROUNDS", "3"))
CHECKPOINT = os.environ.get("CHECKPOINT", "0.1")


def start(workdir, *flags):
    log = open(os.path.join(workdir, "log"), "wb")
    process = subprocess.Popen([BINARY, "--host", "127.0.0.1", "--port", "0", "--data-dir",
                                os.path.join(workdir, "data"), "--log-level", "info", *flags], stdout=log, stderr=log)
    for _ in range(300):
        match = re.search(r'"listening".*?:(\d+)"', open(os.path.join(workdir, "log")).read())
        if match:
            return process, f"http://127.0.0.1:{match.group(1)}"
        time.sleep(0.05)
    raise SystemExit("descent did not start")


def call(url, body=None, content_type="application/json"):
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type} if body else {})
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


def run_job(flags):
    with tempfile.TemporaryDirectory() as workdir:
        process, base = start(workdir, *flags)
        try:
            rng = np.random.default_rng(3)
            x = rng.normal(size=(200_000, 16))
            y = x @ rng.normal(size=16) + 0.1 * rng.normal(size=200_000)
            header = ",".join(f"x{i}" for i in range(16)) + ",y\n"
            body = header + "\n".join(",".join(repr(float(v)) for v in row) for row in np.column_stack([x, y]))
            dataset = call(base + "/v1/datasets", body.encode(), "text/csv")
            spec = {"dataset_id": dataset["id"], "optimizer": {"method": "sgd", "learning_rate": 0.001},
                    "stopping": {"max_iterations": 40, "weight_tolerance": 0}, "report_every": 1}
            job = call(base + "/v1/jobs", json.dumps(spec).encode())
            while job["status"] not in ("succeeded", "failed", "cancelled"):
                job = call(base + f"/v1/jobs/{job['id']}?wait=30")
            return job["progress"]["elapsed_seconds"], job["result"]["weights"]
        finally:
            process.terminate()
            process.wait()


with_checkpoints, without = [], []
for round_index in range(ROUNDS):
    seconds, weights_with = run_job(["--checkpoint-seconds", CHECKPOINT])
    with_checkpoints.append(seconds)
    seconds, weights_without = run_job(["--checkpoint-seconds", "86400"])
    without.append(seconds)
    assert weights_with == weights_without, "checkpoints changed the result"
    print(f"round {round_index + 1}: checkpoints every {CHECKPOINT} s: {with_checkpoints[-1]:.3f} s; "
          f"none: {without[-1]:.3f} s")
a, b = float(np.median(with_checkpoints)), float(np.median(without))
print(f"median: {a:.3f} s with checkpoints every {CHECKPOINT} s, {b:.3f} s without: overhead {100 * (a / b - 1):+.1f}% "
      f"(target < 5% at the default of 2 s; this cadence is {2 / float(CHECKPOINT):.0f}x the default's)")
print(f"RESULT mode=checkpoints cadence={CHECKPOINT} with={a:.4f} without={b:.4f} overhead_pct={100 * (a / b - 1):.2f}")
