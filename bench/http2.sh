#!/usr/bin/env bash
# http2.sh — BENCHMARKS.md "HTTP/2" (issue 6): descent's GET /healthz over h2c against nginx serving h2c
# (`listen … http2` on a cleartext port, `return 200 '{"status":"ok"}'`), side by side in one run.
#
#  1. nginx (Debian's; one worker, access_log off) and the release descent binary on free loopback ports.
#     Both are spoken to with HTTP/2 prior knowledge (h2c, the client starts with the connection preface).
#  2. Warm-up, then ROUNDS rounds of `h2load -n 200000 -c 16 -m 10`, alternating nginx / descent.
#  3. A table of every run (req/s, mean and max time per request, and h2load's request counts: succeeded =
#     answered 2xx/3xx; failed = the rest, of which errored = cut off by a connection error or timeout;
#     non2xx = answers not 2xx), the medians, and descent/nginx req/s against the target: ≥ 0.7× nginx.
#
# Usage: bench/http2.sh      Env: ROUNDS (3)  REQUESTS (200000)  CLIENTS (16)  STREAMS (10, max per client)
#                                 DESCENT_BIN (.build/release/descent; built if missing)
#                                 DESCENT_URL (measure the h2c server already there instead of starting
#                                              DESCENT_BIN, e.g. `nghttpd --no-tls` as a stand-in)
# Exit: 0 when the figures were measured (a missed target or failed requests are reported, not failed);
#       1 on a setup error (a tool missing, a server not answering h2c).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -d /opt/swift/usr/bin ]] && PATH="/opt/swift/usr/bin:$PATH"

ROUNDS=${ROUNDS:-3}
REQUESTS=${REQUESTS:-200000}
CLIENTS=${CLIENTS:-16}
STREAMS=${STREAMS:-10}
DESCENT_BIN=${DESCENT_BIN:-.build/release/descent}
DESCENT_URL=${DESCENT_URL:-}

for tool in nginx h2load curl python3; do
    command -v "$tool" >/dev/null || { echo "http2.sh: $tool is required" >&2; exit 1; }
done
if [[ -z $DESCENT_URL && ! -x $DESCENT_BIN ]]; then
    echo "== building release (no $DESCENT_BIN)"
    swift build -c release --product descent
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
nginx_port=$(free_port)
descent_port=$(free_port)
while [[ $descent_port == "$nginx_port" ]]; do descent_port=$(free_port); done

# --- nginx: the anchor. A cleartext `listen … http2` port speaks h2c with prior knowledge only (nginx 1.22
# syntax; `http2 on;` is 1.25+). nginx ends an HTTP/2 connection with GOAWAY after a number of requests
# (1000 by default), and h2load counts the streams cut off by it as failed. That limit was
# `http2_max_requests`, obsolete since nginx 1.19.7 (1.22 warns and ignores it); `keepalive_requests` now
# sets it for HTTP/2 too, so it is raised far above REQUESTS / CLIENTS: like descent, nginx then never
# closes a busy connection during the run.
mkdir -p "$tmp/nginx/logs"
cat >"$tmp/nginx/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 100000000;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    server {
        listen 127.0.0.1:$nginx_port http2;
        location = /healthz { default_type application/json; return 200 '{"status":"ok"}'; }
    }
}
NGINX
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/logs/error.log" &
pids+=($!)
nginx_master=$!

# --- descent, with its store in the temp dir; warning level keeps the per-request access log off.
descent_pid=
if [[ -z $DESCENT_URL ]]; then
    mkdir -p "$tmp/data"
    "$DESCENT_BIN" --port "$descent_port" --data-dir "$tmp/data" --log-level warning >"$tmp/descent.log" 2>&1 &
    pids+=($!)
    descent_pid=$!
fi

wait_up() {  # name url pid (pid empty: a server this script did not start)
    local _ h2=(curl -fsS --http2-prior-knowledge -o /dev/null "$2")
    for _ in $(seq 100); do
        "${h2[@]}" 2>/dev/null && return 0
        # Up over HTTP/1.1 but not h2c (asked again: it may have started listening between the two)?
        if curl -fsS --http1.1 -o /dev/null "$2" 2>/dev/null && ! "${h2[@]}" 2>/dev/null; then
            echo "http2.sh: $1 answers HTTP/1.1 at $2 but not h2c with prior knowledge (no HTTP/2 in this build?)" >&2
            exit 1
        fi
        [[ -z $3 ]] || kill -0 "$3" 2>/dev/null || break
        sleep 0.1
    done
    echo "http2.sh: $1 did not answer $2 over h2c" >&2
    [[ $1 == descent && -f $tmp/descent.log ]] && tail -20 "$tmp/descent.log" >&2
    [[ $1 == nginx ]] && tail -20 "$tmp/nginx/logs/error.log" >&2
    exit 1
}
nginx_url="http://127.0.0.1:$nginx_port/healthz"
descent_url=${DESCENT_URL:-"http://127.0.0.1:$descent_port/healthz"}
wait_up nginx "$nginx_url" "$nginx_master"
wait_up descent "$descent_url" "$descent_pid"
h2get() { curl -fsS --http2-prior-knowledge -w ' (HTTP/%{http_version} %{http_code})' "$1"; }
echo "h2load  $(h2load --version | sed 's/.*nghttp2\///')"
echo "nginx   $(nginx -v 2>&1 | sed 's/.*\///') on :$nginx_port  -> $(h2get "$nginx_url")"
if [[ -n $DESCENT_URL ]]; then
    echo "descent (stand-in) $DESCENT_URL  -> $(h2get "$descent_url")"
else
    echo "descent $DESCENT_BIN on :$descent_port  -> $(h2get "$descent_url")"
fi

# --- h2load. Prints "<req/s> <mean ms> <max ms> <succeeded> <failed> <errored+timeout> <non-2xx> <protocol>"
# from its report: "finished in 1.23s, 162601.63 req/s, ...", "requests: N total, N started, N done,
# N succeeded, N failed, N errored, N timeout", "status codes: N 2xx, N 3xx, N 4xx, N 5xx",
# "time for request: min max mean sd +/- sd" and "Application protocol: h2c".
run_h2load() {  # url requests
    h2load -n "$2" -c "$CLIENTS" -m "$STREAMS" "$1" 2>"$tmp/h2load.err" | awk '
        function ms(v,   u) { u = v; sub(/^[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
                             return (u == "us") ? v / 1000 : (u == "s") ? v * 1000 : v }
        /^finished in/ { rps = $4 }
        /^requests:/ { for (i = 2; i <= NF; i++) {
                           if ($i ~ /^succeeded/) ok = $(i - 1)
                           if ($i ~ /^failed/) failed = $(i - 1)
                           if ($i ~ /^errored/ || $i ~ /^timeout/) errored += $(i - 1) } }
        /^status codes:/ { for (i = 3; i <= NF; i++) if ($i ~ /^[1345]xx/) non2xx += $(i - 1) }
        /^time for request:/ { max = ms($5); mean = ms($6) }
        /^Application protocol:/ { proto = $3 }
        END { printf "%.0f %.3f %.3f %d %d %d %d %s\n", rps, mean, max, ok, failed, errored, non2xx,
                     (proto == "") ? "none" : proto }'
}

echo "== warm-up ($((REQUESTS / 10)) requests each)"
for url in "$nginx_url" "$descent_url"; do
    read -r _ _ _ _ _ _ _ proto < <(run_h2load "$url" $((REQUESTS / 10)))
    if [[ $proto != h2c ]]; then
        echo "http2.sh: h2load did not speak h2c to $url (protocol: $proto)" >&2
        cat "$tmp/h2load.err" >&2
        exit 1
    fi
done

echo "== h2load -n $REQUESTS -c $CLIENTS -m $STREAMS (h2c, prior knowledge), $ROUNDS rounds, alternating"
row() { printf '%-6s %-8s %10s %8s %8s %10s %7s %8s %7s\n' "$@"; }
row round server req/s mean_ms max_ms succeeded failed errored non2xx
n_rps=() d_rps=() bad=0
for r in $(seq "$ROUNDS"); do
    for server in nginx descent; do
        url=$nginx_url
        [[ $server == descent ]] && url=$descent_url
        read -r rps mean max ok failed errored non2xx _ < <(run_h2load "$url" "$REQUESTS")
        row "$r" "$server" "$rps" "$mean" "$max" "$ok" "$failed" "$errored" "$non2xx"
        if [[ $server == nginx ]]; then n_rps+=("$rps"); else d_rps+=("$rps"); fi
        if ((failed + errored + non2xx > 0 || ok < REQUESTS)); then bad=$((bad + 1)); fi
    done
done

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mn_rps=$(median "${n_rps[@]}")
md_rps=$(median "${d_rps[@]}")
printf '%-6s %-8s %10.0f\n' median nginx "$mn_rps"
printf '%-6s %-8s %10.0f\n' median descent "$md_rps"
awk -v d="$md_rps" -v n="$mn_rps" 'BEGIN {
    ratio = (n > 0) ? d / n : 0
    printf "descent/nginx req/s: %.2fx   (target >= 0.70x: %s)\n", ratio, (ratio >= 0.7) ? "MET" : "MISSED"
}'
if ((bad > 0)); then
    echo "note: $bad run(s) above did not get $REQUESTS 2xx answers (see failed / errored / non2xx);" \
        "h2load's req/s counts every stream that completed, whatever its status"
else
    echo "every run: $REQUESTS requests succeeded with 2xx, none failed or errored"
fi
