#!/usr/bin/env bash
# load.sh — issue 8 "Load": the service under polling load with jobs running and streams open, and under a
# slow-loris attack. It proves, on one server, and exits non-zero when any requirement fails:
#
#  (a) LOAD_SECONDS of `wrk -c LOAD_CONNECTIONS --latency` rotating over the polling endpoints (GET /v1/jobs/{id}
#      of each running job, GET /v1/jobs, ?status=running, ?dataset_id=, GET /v1/datasets/{id}; bench/load_poll.lua),
#      while LOAD_JOBS (4) gradient-descent jobs run for the whole time and LOAD_SSE_CLIENTS (200) clients stream
#      their progress (GET /v1/jobs/{id}/events, text/event-stream; bench/load_sse.py):
#        - wrk: no socket error (connect, read, write, or a request slower than wrk's 2 s timeout), no answer
#          that is not 2xx (the Lua hook counts 4xx and 5xx apart);
#        - every job is still running when wrk ends (then they are cancelled, which ends the streams);
#        - every stream: 200 text/event-stream, a `status` first, every progress event (iterations R, 2R, …
#          for report_every R) with none lost or repeated, no silence longer than LOAD_SSE_MAX_GAP s while wrk
#          runs (events come every ~0.1–0.5 s; a job pauses for its 2 s checkpoints at most), then `result`;
#        - the server's peak RSS during the load (VmHWM, reset when the load starts) within the bound below, and
#          its growth during the load within the tighter allowance below;
#        - p99 latency reported (wrk --latency), not judged: the machine is shared.
#  (a′) for scale, the same wrk for LOAD_BASELINE_SECONDS once the jobs have ended and the streams closed: its
#      req/s and p99 beside (a)'s (and no errors there either).
#  (b) LOAD_SLOW_CLIENTS (1000) slow-loris connections (bench/slowloris.py: a request head a byte every
#      LOAD_SLOW_INTERVAL s), the server started with --header-timeout LOAD_HEADER_TIMEOUT. LOAD_SLOW_H2_CLIENTS of
#      them (100) do it over HTTP/2 on the same port (h2c): half trickle the connection preface, half send the
#      preface at once and trickle a HEADERS frame — a request head too, and the port serves both protocols:
#        - LOAD_PROBES fresh-connection GETs (http.client) while every slow connection is open: all 200, p99 at most
#          LOAD_PROBE_P99_MS ms (the same probes before the attack are printed beside them);
#        - every slow connection closed by the server (end of stream or reset) no sooner than the header timeout
#          − 0.25 s and no later than the timeout + LOAD_SLOW_LATE s; the server's descriptors back to where they
#          were; the server's peak RSS during the attack within the bound, and its growth within its allowance.
#
# The RSS bound (MiB, printed with its terms):  B0 + 3·D + C·K + H + F, where
#   B0  the server's VmRSS when it first answers /readyz (code, runtime, SQLite, thread stacks), measured;
#   D   the bytes of the uploaded datasets (.npy float64: the same size as the features they hold): each is held
#       once as its feature buffer, and an upload's transient copies (the request body, SQLite's copy of the
#       blob) are freed but may stay in glibc's arenas — 3 copies (measured here: 1.9–2.6·D resident after them);
#   C   connections open at once (wrk + streams in (a), slow clients in (b), + 16 for probes and the script);
#   K   96 KiB per connection: a progress stream writes at most one piece of 256 events (~64 KiB) at a time and
#       keeps no queue (JobEventStream), and a connection's object, Dispatch queue, parser and buffers are a few
#       KiB (bench/http1.sh measures the idle cost); a poll answer is a few KiB;
#   H   the jobs' history: 256 B per recorded progress event (an 80-byte ProgressEvent, array growth ×2, slack)
#       and the ≤ 1001 weight snapshots per job kept for /trajectory;
#   F   64 MiB for what grows with threads, not connections: Dispatch worker stacks, glibc's per-thread arenas.
# And, tighter, what the load itself adds: peak − VmRSS when the load starts ≤ (connections it opens) · K + H
# + 16 MiB (allocator warm-up: under wrk -c256 alone a fresh server grew 17 MiB in its first 360,000 requests
# and levelled off 31 MiB up after 1.1 million; under (a) it grows 7–9 MiB). A leak of ~1 KiB per request (60 s
# of (a) is ~65,000 requests) breaks that one; the first catches unbounded buffering (a stream that queues for a
# slow client, request bodies kept) and anything of hundreds of MiB.
#
# Usage: bench/load.sh
# Env:   LOAD_SECONDS (60)  LOAD_CONNECTIONS (256)  LOAD_SSE_CLIENTS (200)  LOAD_SLOW_CLIENTS (1000)
#        LOAD_SLOW_H2_CLIENTS (100, of LOAD_SLOW_CLIENTS)  LOAD_HEADER_TIMEOUT (5)  LOAD_SLOW_INTERVAL (2)
#        LOAD_SLOW_LATE (2)  LOAD_JOBS (4)  LOAD_ROWS (50000)  LOAD_COLUMNS (32)  LOAD_EVENT_RATE (10 progress
#        events/s per job wanted; sets report_every from a calibration run)  LOAD_SSE_MAX_GAP (5)
#        LOAD_PROBES (100)  LOAD_PROBE_P99_MS (100)  LOAD_BASELINE_SECONDS (LOAD_SECONDS/3, at most 10; 0 skips (a′))
#        DESCENT_BINARY (default: build .build/release/descent with `swift build -c release --product descent`)
# Exit:  0 when every requirement held; 1 when one failed (each is listed); 2 on a setup error.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -d /opt/swift/usr/bin ]] && PATH="/opt/swift/usr/bin:$PATH"
export SWIFT_BACKTRACE=enable=no

LOAD_SECONDS=${LOAD_SECONDS:-60}
LOAD_CONNECTIONS=${LOAD_CONNECTIONS:-256}
LOAD_SSE_CLIENTS=${LOAD_SSE_CLIENTS:-200}
LOAD_SLOW_CLIENTS=${LOAD_SLOW_CLIENTS:-1000}
LOAD_SLOW_H2_CLIENTS=${LOAD_SLOW_H2_CLIENTS:-100}
LOAD_HEADER_TIMEOUT=${LOAD_HEADER_TIMEOUT:-5}
LOAD_SLOW_INTERVAL=${LOAD_SLOW_INTERVAL:-2}
LOAD_SLOW_LATE=${LOAD_SLOW_LATE:-2}
LOAD_JOBS=${LOAD_JOBS:-4}
LOAD_ROWS=${LOAD_ROWS:-50000}
LOAD_COLUMNS=${LOAD_COLUMNS:-32}
LOAD_EVENT_RATE=${LOAD_EVENT_RATE:-10}
LOAD_SSE_MAX_GAP=${LOAD_SSE_MAX_GAP:-5}
LOAD_PROBES=${LOAD_PROBES:-100}
LOAD_PROBE_P99_MS=${LOAD_PROBE_P99_MS:-100}
LOAD_BASELINE_SECONDS=${LOAD_BASELINE_SECONDS:-$((LOAD_SECONDS / 3 < 10 ? LOAD_SECONDS / 3 : 10))}
MAX_CONNECTIONS=10000  # the server's default cap, left as it is
CONNECTION_KIB=96
FIXED_MIB=64
GROWTH_SLACK_MIB=16

started_at=$SECONDS
say() { printf '%s\n' "$*"; }
die() { printf 'load.sh: %s\n' "$*" >&2; exit 2; }

# --------------------------------------------------------------------------------------------- tools
python=/usr/bin/python3  # Debian's; the helpers use the standard library only, so no venv is needed
[[ -x $python ]] || python=$(command -v python3) || die "python3 is required"
for tool in curl awk; do command -v "$tool" >/dev/null || die "$tool is required"; done
if ! command -v wrk >/dev/null; then
    say "== installing wrk (Debian package)"
    as_root=()
    [[ $(id -u) -eq 0 ]] || as_root=(sudo)
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null ||
        { "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
            "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null; } ||
        die "cannot install wrk"
fi

if [[ -z ${DESCENT_BINARY:-} ]]; then
    say "== building release: swift build -c release --product descent"
    swift build -c release --product descent 2>&1 | tail -1
    DESCENT_BINARY=.build/release/descent
fi
build_seconds=$((SECONDS - started_at))
started_at=$SECONDS
[[ -x $DESCENT_BINARY ]] || die "no executable at $DESCENT_BINARY"

# Descriptors: the server and the clients inherit this. (a) holds wrk + streams, (b) the slow clients.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
need=$((LOAD_SLOW_CLIENTS + LOAD_CONNECTIONS + LOAD_SSE_CLIENTS + 512))
(($(ulimit -n) >= need)) || die "ulimit -n is $(ulimit -n) (hard $(ulimit -Hn)); this run needs $need"
((LOAD_SLOW_CLIENTS + 64 < MAX_CONNECTIONS)) ||
    die "LOAD_SLOW_CLIENTS must stay under the server's connection cap ($MAX_CONNECTIONS) to test the timeout, not the cap"

tmp=$(mktemp -d)
pids=()
server_pid=
cleanup() {
    local pid
    exec 8>&- 2>/dev/null || true
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

failures=()
check() {  # name condition-result(0/1) detail
    if [[ $2 == 1 ]]; then
        printf '  PASS  %s — %s\n' "$1" "$3"
    else
        printf '  FAIL  %s — %s\n' "$1" "$3"
        failures+=("$1")
    fi
}
ok() { awk "BEGIN { exit !($1) }" && echo 1 || echo 0; }  # an awk condition as 1/0
json() { "$python" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
kib() { awk '/^'"$1"':/ { print $2 }' "/proc/$server_pid/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
fds() { find "/proc/$server_pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
# Resets the server's VmHWM to its VmRSS now (Linux clear_refs 5); 1 when it worked.
reset_peak() { { echo 5 >"/proc/$server_pid/clear_refs"; } 2>/dev/null && echo 1 || echo 0; }
sampler() {  # file: VmRSS (KiB) every 0.2 s while the server lives
    while kill -0 "$server_pid" 2>/dev/null; do
        awk '/^VmRSS:/ { print $2 }' "/proc/$server_pid/status" 2>/dev/null || true
        sleep 0.2
    done >"$1"
}
# wrk_figures FILE: "<requests> <req/s> <p50> <p99> <errors>" of a wrk report (errors: socket errors + non-2xx).
wrk_figures() {
    awk '/requests in/ { n = $1 } /Requests\/sec:/ { r = $2 } /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
         /Socket errors:/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) e += $i }
         /Non-2xx or 3xx responses:/ { e += $NF }
         END { printf "%d %s %s %s %d\n", n, (r == "") ? 0 : r, (p50 == "") ? "?" : p50, (p99 == "") ? "?" : p99, e }' "$1"
}
ms() {  # a wrk duration (850.00us, 1.20ms, 1.05s, 1.00m) in milliseconds
    awk -v v="$1" 'BEGIN { u = v; sub(/^[0-9.]+/, "", u); n = v + 0
        printf "%.2f", (u == "us") ? n / 1000 : (u == "s") ? n * 1000 : (u == "m") ? n * 60000 : n }'
}
free_port() { "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --------------------------------------------------------------------------------------------- the server
port=$(free_port)
base="http://127.0.0.1:$port"
mkdir -p "$tmp/data"
"$DESCENT_BINARY" --host 127.0.0.1 --port "$port" --data-dir "$tmp/data" --workers "$LOAD_JOBS" \
    --header-timeout "$LOAD_HEADER_TIMEOUT" --log-level warning >"$tmp/server.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
for _ in $(seq 200); do
    curl -fsS -o /dev/null "$base/readyz" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { tail -20 "$tmp/server.log" >&2; die "the server exited"; }
    sleep 0.1
done
curl -fsS -o /dev/null "$base/readyz" || die "the server did not become ready"
rss0=$(kib VmRSS)
say "== descent $DESCENT_BINARY on :$port (pid $server_pid), --workers $LOAD_JOBS --header-timeout $LOAD_HEADER_TIMEOUT"
say "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); ulimit -n $(ulimit -n);" \
    "server connection cap $MAX_CONNECTIONS (default)"
say "knobs: LOAD_SECONDS=$LOAD_SECONDS LOAD_CONNECTIONS=$LOAD_CONNECTIONS LOAD_SSE_CLIENTS=$LOAD_SSE_CLIENTS" \
    "LOAD_SLOW_CLIENTS=$LOAD_SLOW_CLIENTS (over HTTP/2: $LOAD_SLOW_H2_CLIENTS) LOAD_JOBS=$LOAD_JOBS" \
    "LOAD_ROWS=$LOAD_ROWS LOAD_COLUMNS=$LOAD_COLUMNS"
say "server VmRSS at start (B0): $(mib "$rss0") MiB"

# --------------------------------------------------------------------------------------------- datasets
say "== $LOAD_JOBS datasets of $LOAD_ROWS × $LOAD_COLUMNS float64 (+ target), uploaded as .npy"
gen_pids=()
for i in $(seq "$LOAD_JOBS"); do
    "$python" - "$LOAD_ROWS" "$LOAD_COLUMNS" "$i" "$tmp/d$i.npy" <<'PY' &
import array, random, sys
rows, cols, seed, path = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rng = random.Random(seed)
w = [rng.uniform(-2, 2) for _ in range(cols)]
r = rng.random
out = array.array("d")
for _ in range(rows):
    x = [2.0 * r() - 1.0 for _ in range(cols)]
    x.append(sum(a * b for a, b in zip(x, w)) + 0.1 * (r() - 0.5))
    out.extend(x)
header = "{'descr': '<f8', 'fortran_order': False, 'shape': (%d, %d), }" % (rows, cols + 1)
header += " " * (63 - (10 + len(header)) % 64) + "\n"
with open(path, "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode("latin-1"))
    out.tofile(f)
PY
    gen_pids+=($!)
done
for pid in "${gen_pids[@]}"; do wait "$pid" || die "dataset generation failed"; done
datasets=()
data_bytes=0
for i in $(seq "$LOAD_JOBS"); do
    answer=$(curl -fsS -H 'Content-Type: application/x-npy' --data-binary "@$tmp/d$i.npy" "$base/v1/datasets?name=load$i") ||
        die "upload $i failed"
    datasets+=("$(json 'd["id"]' <<<"$answer")")
    data_bytes=$((data_bytes + $(json 'd["bytes"]' <<<"$answer")))
done
say "uploaded ${datasets[*]}: $(mib $((data_bytes / 1024))) MiB (D); server VmRSS now $(mib "$(kib VmRSS)") MiB," \
    "peak while uploading $(mib "$(kib VmHWM)") MiB"

# --------------------------------------------------------------------------------------------- calibration
# report_every so that each job reports about LOAD_EVENT_RATE times a second under the load: one job alone
# for 2 s gives the machine's iteration rate; under the load LOAD_JOBS jobs share it (and the HTTP load
# takes some), so each gets at most rate / LOAD_JOBS.
job_body() {  # dataset report_every max_seconds
    printf '{"dataset_id":"%s","model":"linear","loss":"squared","optimizer":{"method":"gd","learning_rate":"auto"},' "$1"
    printf '"stopping":{"max_iterations":10000000,"weight_tolerance":0,"max_seconds":%s},"report_every":%s}' "$3" "$2"
}
calibration_job=$(curl -fsS -H 'Content-Type: application/json' "$base/v1/jobs" -d "$(job_body "${datasets[0]}" 1 2)" |
    json 'd["id"]') || die "cannot submit the calibration job"
curl -fsS -o /dev/null "$base/v1/jobs/$calibration_job?wait=30" || die "the calibration job did not finish"
# The rate between its first and last reported iterations, by the job's clock: without the set-up before them.
read -r cal_iterations cal_rate < <(curl -fsS "$base/v1/jobs/$calibration_job/history" |
    json '"%d %.1f" % (d[-1]["iteration"], (d[-1]["iteration"] - d[0]["iteration"]) / max(1e-9, d[-1]["elapsed_seconds"] - d[0]["elapsed_seconds"]) if len(d) > 1 else 0)') ||
    die "cannot read the calibration job's history"
report_every=$(awk -v r="$cal_rate" -v j="$LOAD_JOBS" -v e="$LOAD_EVENT_RATE" \
    'BEGIN { n = int(r / j / e); print (n < 1) ? 1 : n }')
say "calibration: one job alone: $cal_iterations iterations, $cal_rate iterations/s after its set-up;" \
    "report_every = $report_every"
awk -v r="$cal_rate" -v j="$LOAD_JOBS" 'BEGIN { exit !(r / j >= 2) }' ||
    die "jobs on $LOAD_ROWS × $LOAD_COLUMNS are too slow on this binary to stream progress; lower LOAD_ROWS (e.g. 5000 for a debug build)"

# --------------------------------------------------------------------------------------------- (a)
say ""
say "== (a) ${LOAD_SECONDS} s of wrk -c$LOAD_CONNECTIONS on the polling endpoints, $LOAD_JOBS jobs running," \
    "$LOAD_SSE_CLIENTS SSE clients"
jobs=()
for i in $(seq "$LOAD_JOBS"); do
    # The time limit only stops a job the script failed to cancel: the jobs are cancelled when wrk ends.
    jobs+=("$(curl -fsS -H 'Content-Type: application/json' "$base/v1/jobs" \
        -d "$(job_body "${datasets[$((i - 1))]}" "$report_every" $((LOAD_SECONDS + 120)))" | json 'd["id"]')") ||
        die "cannot submit job $i"
done
for job in "${jobs[@]}"; do
    for _ in $(seq 100); do
        [[ $(curl -fsS "$base/v1/jobs/$job" | json 'd["status"]') == running ]] && break
        sleep 0.1
    done
done
say "jobs: ${jobs[*]} (report_every $report_every)"

mkfifo "$tmp/sse.in"
"$python" bench/load_sse.py 127.0.0.1 "$port" --clients "$LOAD_SSE_CLIENTS" --report-every "$report_every" \
    --max-gap "$LOAD_SSE_MAX_GAP" --end-timeout 30 "${jobs[@]}" <"$tmp/sse.in" >"$tmp/sse.out" 2>"$tmp/sse.err" &
sse_pid=$!
pids+=("$sse_pid")
exec 8>"$tmp/sse.in"
for _ in $(seq 600); do
    grep -q '^ready' "$tmp/sse.out" 2>/dev/null && break
    kill -0 "$sse_pid" 2>/dev/null || { cat "$tmp/sse.err" >&2; die "the SSE clients exited"; }
    sleep 0.1
done
grep -q '^ready' "$tmp/sse.out" || die "the SSE clients did not connect in 60 s"
read -r _ sse_open sse_failed < <(grep '^ready' "$tmp/sse.out")
say "SSE clients streaming: $sse_open ($sse_failed failed to open)"
# A job spends its first moments on the step size ("auto") and the reference solution: the load starts once
# every job has reported progress, so that the streams' silences measure the service, not that set-up.
for job in "${jobs[@]}"; do
    for _ in $(seq 600); do
        [[ $(curl -fsS "$base/v1/jobs/$job" | json '1 if d["progress"] else 0') == 1 ]] && continue 2
        sleep 0.1
    done
    die "job $job reported no progress in 60 s"
done

paths=()
for job in "${jobs[@]}"; do paths+=("/v1/jobs/$job"); done
paths+=("/v1/jobs" "/v1/jobs?status=running" "/v1/jobs?dataset_id=${datasets[0]}&limit=10"
    "/v1/datasets/${datasets[0]}" "/v1/jobs/${jobs[0]}")
say "wrk paths: ${paths[*]}"

rss_load_start=$(kib VmRSS)
peak_reset_a=$(reset_peak)
sampler "$tmp/rss-a" &
sampler_pid=$!
pids+=("$sampler_pid")
echo start >&8
threads=$(($(nproc) < 4 ? $(nproc) : 4))
wrk -t"$threads" -c"$LOAD_CONNECTIONS" -d"${LOAD_SECONDS}s" --timeout 2s --latency -s bench/load_poll.lua "$base" \
    -- "${paths[@]}" >"$tmp/wrk.out" 2>&1 || true
echo stop >&8
rss_load_end=$(kib VmRSS)
kill "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
cat "$tmp/wrk.out"

# The jobs must have outlasted wrk; then they are cancelled, which ends every stream with its result.
still_running=0
for job in "${jobs[@]}"; do
    [[ $(curl -fsS "$base/v1/jobs/$job" | json 'd["status"]') == running ]] && still_running=$((still_running + 1))
done
for job in "${jobs[@]}"; do curl -fsS -o /dev/null -X POST "$base/v1/jobs/$job/cancel" || true; done
sse_status=0
wait "$sse_pid" || sse_status=$?
exec 8>&-
peak_a=$(kib VmHWM)
sampled_a=$(sort -n "$tmp/rss-a" | tail -1)
[[ $peak_reset_a == 1 ]] || peak_a=$(( ${sampled_a:-0} > peak_a ? ${sampled_a:-0} : peak_a ))

# History allowance: every recorded event of every job so far (the calibration job included) + snapshots.
events=$((cal_iterations + 1))
for job in "${jobs[@]}"; do
    iterations=$(curl -fsS "$base/v1/jobs/$job?wait=30" | json 'd["progress"]["iteration"]')
    events=$((events + iterations / report_every + 2))
done
history_kib=$(((events * 256 + (LOAD_JOBS + 1) * 1001 * ((LOAD_COLUMNS + 1) * 8 + 64)) / 1024))
bound_kib() {  # connections
    echo $((rss0 + 3 * data_bytes / 1024 + $1 * CONNECTION_KIB + history_kib + FIXED_MIB * 1024))
}
conns_a=$((LOAD_CONNECTIONS + LOAD_SSE_CLIENTS + 16))
bound_a=$(bound_kib "$conns_a")

# wrk's figures.
read -r wrk_requests wrk_rps wrk_p50 wrk_p99 _ < <(wrk_figures "$tmp/wrk.out")
socket_errors=$(awk '/Socket errors:/ { n = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) n += $i; print n }' "$tmp/wrk.out")
socket_line=$(grep 'Socket errors:' "$tmp/wrk.out" | sed 's/^ *//' || true)
socket_line=${socket_line:-"Socket errors: none reported"}
non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$tmp/wrk.out")
read -r s2 s3 s4 s5 sx < <(sed -n 's/^LOAD_STATUS 2xx=\([0-9]*\) 3xx=\([0-9]*\) 4xx=\([0-9]*\) 5xx=\([0-9]*\) other=\([0-9]*\)$/\1 \2 \3 \4 \5/p' "$tmp/wrk.out")
sse_summary=$(sed -n 's/^summary //p' "$tmp/sse.out")

say ""
say "-- (a) figures"
say "wrk: ${wrk_requests:-0} requests, ${wrk_rps:-0} req/s, latency p50 $(ms "$wrk_p50") ms, p99 $(ms "$wrk_p99") ms" \
    "(reported, not judged: 2 shared cores also run $LOAD_JOBS jobs, $LOAD_SSE_CLIENTS streams and wrk)"
say "wrk answers: 2xx ${s2:-?}, 3xx ${s3:-?}, 4xx ${s4:-?}, 5xx ${s5:-?}, other ${sx:-?}; $socket_line"
sse_report=$(sed -n 's/^report //p' "$tmp/sse.out")
say "SSE: ${sse_report:-no report from load_sse.py (exit $sse_status)}"
[[ -s $tmp/sse.err ]] && { say "SSE client failures (first 10):"; head -10 "$tmp/sse.err"; }
say "server VmRSS: $(mib "$rss_load_start") MiB when wrk started, $(mib "$rss_load_end") MiB when it ended;" \
    "peak during (a) $(mib "$peak_a") MiB ($([[ $peak_reset_a == 1 ]] && echo "VmHWM reset at the start" || echo "sampled"))"
say "server VmRSS while wrk ran (MiB, at 0, 1/4, 1/2, 3/4 and the end of the run):" \
    "$(awk '{ v[NR] = $1 } END { for (q = 0; q <= 4; q++) { i = int(1 + (NR - 1) * q / 4); printf "%s%.1f", (q ? " → " : ""), v[i] / 1024 } }' "$tmp/rss-a")"
say "RSS bound (a): B0 $(mib "$rss0") + 3·D $(mib $((3 * data_bytes / 1024))) + $conns_a conns × $CONNECTION_KIB KiB" \
    "$(mib $((conns_a * CONNECTION_KIB))) + history $(mib "$history_kib") ($events events) + F $FIXED_MIB" \
    "= $(mib "$bound_a") MiB"

say "-- (a) requirements"
check "wrk ran" "$(ok "${wrk_requests:-0} > 0")" "${wrk_requests:-0} requests"
check "no socket errors" "$(ok "${socket_errors:-0} == 0")" "$socket_line"
check "every answer 2xx" "$(ok "${non2xx:-0} == 0 && ${s3:-1} + ${s4:-1} + ${s5:-1} + ${sx:-1} == 0")" \
    "wrk's Non-2xx or 3xx: ${non2xx:-0}; by the Lua hook 3xx ${s3:-?}, 4xx ${s4:-?}, 5xx ${s5:-?}, other ${sx:-?}"
check "no 5xx" "$(ok "${s5:-1} == 0")" "5xx: ${s5:-unknown}"
check "jobs ran the whole time" "$(ok "$still_running == $LOAD_JOBS")" "$still_running of $LOAD_JOBS still running when wrk ended"
sse_judged=$([[ -n $sse_summary ]] && json '"%d of %d clients failed" % (d["failed"], d["clients"])' <<<"$sse_summary" ||
    echo "no summary from load_sse.py")
check "every SSE client streamed to the end" "$(ok "$sse_status == 0 && ${sse_failed:-1} == 0")" \
    "$LOAD_SSE_CLIENTS opened, $sse_judged (exit $sse_status)"
check "peak RSS within the bound" "$(ok "$peak_a <= $bound_a")" "$(mib "$peak_a") MiB ≤ $(mib "$bound_a") MiB"
growth_a=$((peak_a - rss_load_start))
allow_a=$((LOAD_CONNECTIONS * CONNECTION_KIB + history_kib + GROWTH_SLACK_MIB * 1024))
check "RSS growth under the load within its allowance" "$(ok "$growth_a <= $allow_a")" \
    "peak − VmRSS when wrk started = $(mib "$growth_a") MiB ≤ $LOAD_CONNECTIONS wrk conns × $CONNECTION_KIB KiB + history + $GROWTH_SLACK_MIB = $(mib "$allow_a") MiB"

# --------------------------------------------------------------------------------------------- (a′)
# For scale, on the same server: the same wrk once the jobs have ended and the streams are closed.
if ((LOAD_BASELINE_SECONDS > 0)); then
    say ""
    say "== (a′) for scale: the same wrk for $LOAD_BASELINE_SECONDS s, the jobs finished and no streams open"
    wrk -t"$threads" -c"$LOAD_CONNECTIONS" -d"${LOAD_BASELINE_SECONDS}s" --timeout 2s --latency -s bench/load_poll.lua \
        "$base" -- "${paths[@]}" >"$tmp/wrk-base.out" 2>&1 || true
    read -r b_requests b_rps b_p50 b_p99 b_errors < <(wrk_figures "$tmp/wrk-base.out")
    say "without jobs and streams: $b_requests requests, $b_rps req/s, p50 $(ms "$b_p50") ms, p99 $(ms "$b_p99") ms," \
        "$b_errors errors or non-2xx"
    say "with them ((a) above):    $wrk_requests requests, $wrk_rps req/s, p50 $(ms "$wrk_p50") ms, p99 $(ms "$wrk_p99") ms" \
        "— $(awk -v a="$wrk_rps" -v b="$b_rps" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')× the req/s"
    check "no errors without the load either" "$(ok "${b_errors:-1} == 0 && ${b_requests:-0} > 0")" \
        "$b_errors socket errors or non-2xx answers in $b_requests requests"
fi

# --------------------------------------------------------------------------------------------- (b)
say ""
say "== (b) $LOAD_SLOW_CLIENTS slow-loris connections (a byte every $LOAD_SLOW_INTERVAL s; $LOAD_SLOW_H2_CLIENTS of them" \
    "over HTTP/2), header timeout $LOAD_HEADER_TIMEOUT s; $LOAD_PROBES fresh-connection GETs meanwhile"
probe_url="$base/v1/jobs/${jobs[0]}"
# probe COUNT FILE: COUNT GETs of probe_url one after the other, each on a fresh connection (http.client, so no
# process start per request: 100 of them fit well inside the header timeout); per request "<status> <seconds>",
# the time from connect to the last byte of the answer (as curl's time_total); status 0 when it failed.
probe() {
    "$python" - "$1" "127.0.0.1" "$port" "${probe_url#"$base"}" >"$2" <<'PY'
import http.client, sys, time
count, host, port, path = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
for _ in range(count):
    started = time.perf_counter()
    try:
        connection = http.client.HTTPConnection(host, port, timeout=10)
        connection.request("GET", path, headers={"Connection": "close"})
        answer = connection.getresponse()
        answer.read()
        status = answer.status
        connection.close()
    except OSError:
        status = 0
    print(status, "%.6f" % (time.perf_counter() - started), flush=True)
PY
}
percentile() {  # file p: the p-th percentile (nearest rank) of column 2, in ms
    sort -g -k2 "$1" | awk -v p="$2" '{ v[NR] = $2 } END { r = int((p * NR + 99) / 100); if (r < 1) r = 1; printf "%.2f", v[r] * 1000 }'
}
probe "$LOAD_PROBES" "$tmp/probe-before"
fds_before=$(fds)
rss_attack_start=$(kib VmRSS)
peak_reset_b=$(reset_peak)
sampler "$tmp/rss-b" &
sampler_pid=$!
pids+=("$sampler_pid")
"$python" bench/slowloris.py 127.0.0.1 "$port" --connections "$LOAD_SLOW_CLIENTS" --timeout "$LOAD_HEADER_TIMEOUT" \
    --interval "$LOAD_SLOW_INTERVAL" --late "$LOAD_SLOW_LATE" \
    --h2-preface $((LOAD_SLOW_H2_CLIENTS / 2)) --h2-headers $((LOAD_SLOW_H2_CLIENTS - LOAD_SLOW_H2_CLIENTS / 2)) \
    >"$tmp/slow.out" 2>"$tmp/slow.err" &
slow_pid=$!
pids+=("$slow_pid")
for _ in $(seq 600); do
    grep -q '^ready' "$tmp/slow.out" 2>/dev/null && break
    kill -0 "$slow_pid" 2>/dev/null || break
    sleep 0.05
done
read -r _ slow_open slow_failed _ < <(grep '^ready' "$tmp/slow.out" || echo "ready 0 $LOAD_SLOW_CLIENTS 0")
fds_during=$(fds)
probe_start=$(date +%s.%N)
probe "$LOAD_PROBES" "$tmp/probe-during"
probe_end=$(date +%s.%N)
slow_status=0
wait "$slow_pid" || slow_status=$?
sleep 3  # the server lingers up to 2 s after its 408 for the client's close
fds_after=$(fds)
kill "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
peak_b=$(kib VmHWM)
sampled_b=$(sort -n "$tmp/rss-b" | tail -1)
[[ $peak_reset_b == 1 ]] || peak_b=$(( ${sampled_b:-0} > peak_b ? ${sampled_b:-0} : peak_b ))
conns_b=$((LOAD_SLOW_CLIENTS + 16))
bound_b=$(bound_kib "$conns_b")
healthy=$(curl -s -o /dev/null -w '%{http_code}' "$base/healthz" || true)
slow_summary=$(sed -n 's/^summary //p' "$tmp/slow.out")
first_close=0
[[ -z $slow_summary ]] || first_close=$(json 'd["first_close_wall"] or 0' <<<"$slow_summary")

say "-- (b) figures"
say "slow connections open: $slow_open ($slow_failed failed); server descriptors $fds_before before, $fds_during" \
    "during, $fds_after after"
sed -n 's/^report //p' "$tmp/slow.out"
[[ -s $tmp/slow.err ]] && { say "slow-loris client errors (first 5):"; head -5 "$tmp/slow.err"; }
before_ok=$(awk '$1 == 200' "$tmp/probe-before" | wc -l)
during_ok=$(awk '$1 == 200' "$tmp/probe-during" | wc -l)
during_n=$(wc -l <"$tmp/probe-during")
say "probe GET $probe_url (a fresh connection each; connect to last byte):"
say "  before the attack: $before_ok/$LOAD_PROBES 200, p50 $(percentile "$tmp/probe-before" 50) ms, p99 $(percentile "$tmp/probe-before" 99) ms, max $(percentile "$tmp/probe-before" 100) ms"
say "  during the attack: $during_ok/$during_n 200, p50 $(percentile "$tmp/probe-during" 50) ms, p99 $(percentile "$tmp/probe-during" 99) ms, max $(percentile "$tmp/probe-during" 100) ms;" \
    "ran $(awk -v a="$probe_start" -v b="$probe_end" 'BEGIN { printf "%.2f", b - a }') s, ended $(awk -v e="$probe_end" -v f="$first_close" 'BEGIN { printf "%.2f", f - e }') s before the server's first close of a slow connection"
say "server VmRSS $(mib "$rss_attack_start") MiB before the attack, peak during it $(mib "$peak_b") MiB; bound: B0 + 3·D + $conns_b conns × $CONNECTION_KIB KiB + history + F = $(mib "$bound_b") MiB"

say "-- (b) requirements"
p99_during=$(percentile "$tmp/probe-during" 99)
check "all slow connections opened" "$(ok "$slow_open == $LOAD_SLOW_CLIENTS")" "$slow_open of $LOAD_SLOW_CLIENTS"
check "probes served during the attack" "$(ok "$during_ok == $LOAD_PROBES")" "$during_ok of $LOAD_PROBES answered 200"
check "probes overlapped the attack" "$(ok "$probe_end < $first_close")" \
    "the last probe ended before the server closed any slow connection"
check "probe p99 within ${LOAD_PROBE_P99_MS} ms" "$(ok "$p99_during <= $LOAD_PROBE_P99_MS")" "p99 $p99_during ms"
if grep -q '^verdict ' "$tmp/slow.out"; then
    while IFS=$'\t' read -r kind passed detail; do
        check "$kind slow connections closed at the header timeout" "$passed" "$detail"
    done < <(sed -n 's/^verdict //p' "$tmp/slow.out")
else
    check "slow connections closed at the header timeout" 0 "no verdict from slowloris.py (exit $slow_status)"
fi
check "server released the slow connections" "$(ok "$fds_after <= $fds_before + 8")" \
    "descriptors $fds_before before, $fds_after after"
check "server healthy after" "$(ok "${healthy:-0} == 200")" "GET /healthz → $healthy"
check "peak RSS within the bound" "$(ok "$peak_b <= $bound_b")" "$(mib "$peak_b") MiB ≤ $(mib "$bound_b") MiB"
growth_b=$((peak_b - rss_attack_start))
allow_b=$((LOAD_SLOW_CLIENTS * CONNECTION_KIB + GROWTH_SLACK_MIB * 1024))
check "RSS growth under the attack within its allowance" "$(ok "$growth_b <= $allow_b")" \
    "peak − VmRSS before it = $(mib "$growth_b") MiB ≤ $LOAD_SLOW_CLIENTS conns × $CONNECTION_KIB KiB + $GROWTH_SLACK_MIB = $(mib "$allow_b") MiB"

say ""
log_lines=$(wc -l <"$tmp/server.log")
say "server log (level warning): $log_lines lines"
((log_lines == 0)) || head -5 "$tmp/server.log"
say "wall time $((SECONDS - started_at)) s$( ((build_seconds < 2)) || echo " (and $build_seconds s building before it)")"
if ((${#failures[@]} > 0)); then
    say "FAILED: ${#failures[@]} requirement(s): $(printf '%s; ' "${failures[@]}")"
    exit 1
fi
say "PASSED: every requirement held"
