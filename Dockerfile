# syntax=docker/dockerfile:1

# The `trestle` binary in a small Debian image.
#
#   docker build -t trestle .
#   docker run --rm -p 8080:8080 trestle serve --demo       # SQLite, in the container
#
# compose.yaml runs it on PostgreSQL with three replicas behind HAProxy.

# ---- build -----------------------------------------------------------------
# The workspace's rust-version is 1.94 (Cargo.toml).
FROM rust:1.94-bookworm AS build
WORKDIR /src
# The whole workspace: the root package declares tests and benches whose
# files Cargo looks for when it reads the manifest (.dockerignore keeps
# target/, node_modules and local databases out).
COPY . .
# Cargo's registry, git checkouts and target directory live in BuildKit
# caches, so a rebuild after a source change recompiles only the workspace.
# The target directory is a cache, not a layer: copy the binary out of it in
# the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --package trestle --bin trestle \
 && cp target/release/trestle /usr/local/bin/trestle

# ---- runtime ---------------------------------------------------------------
# The binary needs glibc and libgcc_s only: SQLite is compiled in (sqlx's
# `sqlite` feature bundles it), and webhook deliveries use rustls with the
# Mozilla roots compiled in (reqwest's `rustls-tls`, webpki-roots), not
# OpenSSL. ca-certificates is installed for anything in the image that reads
# the system store; the binary itself does not.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# A fixed, unprivileged uid/gid (10001), numeric in USER so that
# orchestrators can check runAsNonRoot. Its working directory is writable so
# that the default SQLite database (`sqlite://trestle.db?mode=rwc`) can be
# created there when no TRESTLE_DATABASE_URL is given.
RUN groupadd --system --gid 10001 trestle \
 && useradd --system --uid 10001 --gid 10001 --no-create-home \
      --home-dir /var/lib/trestle --shell /usr/sbin/nologin trestle \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/trestle
COPY --from=build /usr/local/bin/trestle /usr/local/bin/trestle
WORKDIR /var/lib/trestle
USER 10001:10001
ENV TRESTLE_LISTEN=0.0.0.0:8080
EXPOSE 8080
# No HEALTHCHECK: the image has no curl or wget, and the binary has no probe
# subcommand. Let the orchestrator probe over HTTP instead: liveness
# GET /healthz, readiness GET /readyz (503 while draining after SIGTERM or
# while the database does not answer); compose.yaml's HAProxy checks /readyz.
# SIGTERM starts the drain once the server is up; until then a `trestle`
# that is PID 1 has no handler, and the kernel drops the signal. Run with an
# init (`docker run --init`, compose `init: true`) so that SIGTERM during
# start-up stops it too.
ENTRYPOINT ["trestle"]
CMD ["serve"]
