# Descent — container image. Two stages: build with the official Swift 6.3 image, run on Debian slim.
#   docker build -t descent . && docker run -p 8080:8080 -v descent-data:/var/lib/descent descent
# Checked on this machine (no Docker engine) by scripts/container-test.sh (`make docker-check`).

# ---- build ------------------------------------------------------------------------------------------
FROM swift:6.3-bookworm AS build
# Headers and pkg-config files of the C libraries behind the system-library targets (Package.swift).
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libnghttp2-dev libopenblas-dev liblapacke-dev libsqlite3-dev libssl-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Manifest first, then the sources (the project has no package dependencies to resolve in between).
COPY Package.swift ./
COPY Sources ./Sources
# SwiftPM wants every declared target's directory, test targets included.
COPY Tests ./Tests
# ...and the benchmarks' executable targets (not built here).
COPY bench/math ./bench/math
COPY bench/ingest ./bench/ingest
# Sources/DescentService/openapi.yaml is a symlink to ../../openapi.yaml: the real file goes to /src.
COPY openapi.yaml ./
# Static Swift runtime + Foundation: the runtime image then needs only the C libraries below.
RUN swift build -c release --static-swift-stdlib --product descent \
 && install -D -m 0755 "$(swift build -c release --show-bin-path)/descent" /out/descent

# ---- run --------------------------------------------------------------------------------------------
FROM debian:bookworm-slim
# Runtime libraries only: nghttp2, OpenBLAS (+ LAPACK) and LAPACKE, SQLite, libcrypto (SHA-256), libstdc++ (the static Swift
# runtime links it dynamically); curl for HEALTHCHECK.
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libnghttp2-14 libopenblas0-pthread liblapacke libsqlite3-0 libssl3 libstdc++6 curl ca-certificates \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
# An unprivileged user that owns the data directory (the SQLite store lives there).
RUN groupadd --gid 10001 descent \
 && useradd --uid 10001 --gid descent --no-create-home --home-dir /var/lib/descent \
      --shell /usr/sbin/nologin descent \
 && install -d -o descent -g descent -m 0750 /var/lib/descent
COPY --from=build /out/descent /usr/local/bin/descent
ENV DESCENT_DATA_DIR=/var/lib/descent \
    DESCENT_HOST=0.0.0.0 \
    DESCENT_PORT=8080
VOLUME ["/var/lib/descent"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
# The service drains and exits 0 on SIGTERM.
STOPSIGNAL SIGTERM
USER descent
WORKDIR /var/lib/descent
ENTRYPOINT ["/usr/local/bin/descent"]
