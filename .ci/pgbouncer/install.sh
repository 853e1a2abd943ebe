#!/usr/bin/env bash
# Provide a PgBouncer binary new enough for Trestle (>= 1.21: protocol-level
# named prepared statements, needed by sqlx behind `pool_mode = transaction`).
#
# Usage:  PGBOUNCER=$(.ci/pgbouncer/install.sh)
#
# stdout: exactly one line, the absolute path of the binary. Progress -> stderr.
# Idempotent. Order of preference:
#   1. $PGBOUNCER_BIN, if set and >= 1.21
#   2. `pgbouncer` on PATH, if >= 1.21 (Debian bookworm ships 1.18: too old)
#   3. a cached build in $CACHE/pgbouncer-<version>/bin/pgbouncer
#   4. build from Debian trixie's source (orig tarball pinned by sha256, plus
#      Debian's CVE patches when that tarball is still in the pool), into the cache.
# CACHE = ${TRESTLE_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/trestle-ci}
# Build deps (apt-get, needs root or sudo): build-essential pkg-config libevent-dev
# libssl-dev patch curl. c-ares is not used (libevent's evdns resolves names).
set -euo pipefail

MIN_VERSION=1.21
VERSION=1.24.1
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
POOL=$MIRROR/pool/main/p/pgbouncer
ORIG=pgbouncer_${VERSION}.orig.tar.gz
ORIG_SHA256=da72a3aba13072876d055a3e58dd4aba4a5de4ed6148e73033185245598fd3e0
# Debian's packaging of the same upstream version; only its CVE patches are used.
DEBIAN_TAR=pgbouncer_${VERSION}-1+deb13u2.debian.tar.xz
DEBIAN_TAR_SHA256=2325bcaa2e71919d399b9e5aef5b94ff988fc1f1d296908c3937b682b7be5cbb
BUILD_DEPS=(build-essential pkg-config libevent-dev libssl-dev patch curl ca-certificates)

CACHE=${TRESTLE_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/trestle-ci}
PREFIX=$CACHE/pgbouncer-$VERSION
BIN=$PREFIX/bin/pgbouncer

log() { printf '[pgbouncer/install] %s\n' "$*" >&2; }

# Prints the x.y.z version of the pgbouncer binary $1, or nothing if it does not run.
version_of() {
    "$1" --version 2>/dev/null | sed -n '1s/^PgBouncer \([0-9][0-9.]*\).*/\1/p' || true
}

# True if version $1 >= $MIN_VERSION.
new_enough() {
    [ -n "$1" ] && [ "$(printf '%s\n%s\n' "$MIN_VERSION" "$1" | sort -V | head -n1)" = "$MIN_VERSION" ]
}

# Use binary $1 if it is new enough: print its absolute path and exit.
try_use() {
    local bin=$1 v
    [ -n "$bin" ] && [ -x "$bin" ] || return 0
    v=$(version_of "$bin")
    if new_enough "$v"; then
        bin=$(readlink -f "$bin")
        log "using $bin (PgBouncer $v)"
        printf '%s\n' "$bin"
        exit 0
    fi
    if [ -n "$v" ]; then log "$bin is PgBouncer $v, need >= $MIN_VERSION"; else log "$bin does not run"; fi
}

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null; then sudo -n "$@"
    else log "need root (or sudo) to run: $*"; return 1
    fi
}

install_build_deps() {
    local missing=() p
    for p in "${BUILD_DEPS[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing build dependencies: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; then
        as_root apt-get update -q >&2
        as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
    fi
}

check_sha256() { # file sha256
    local got
    got=$(sha256sum "$1" | cut -d' ' -f1)
    [ "$got" = "$2" ] || { log "sha256 mismatch for $1: got $got, want $2"; return 1; }
}

[ -n "${PGBOUNCER_BIN:-}" ] && try_use "$PGBOUNCER_BIN"
try_use "$(command -v pgbouncer || true)"
try_use "$BIN"

mkdir -p "$CACHE"
# Serialise concurrent callers (parallel tests); re-check once we hold the lock.
exec 9>"$CACHE/.pgbouncer-$VERSION.lock"
flock 9
try_use "$BIN"

start=$(date +%s)
install_build_deps
# libevent's runtime library comes with libevent-dev; a stale cached binary
# whose libraries vanished is simply rebuilt below.

work=$(mktemp -d "$CACHE/.pgbouncer-$VERSION.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

log "downloading $POOL/$ORIG"
curl -fsSL --retry 3 --max-time 300 -o "$ORIG" "$POOL/$ORIG"
check_sha256 "$ORIG" "$ORIG_SHA256"
tar xzf "$ORIG"
src=$work/pgbouncer-$VERSION

patched=none
if curl -fsSL --retry 2 --max-time 120 -o "$DEBIAN_TAR" "$POOL/$DEBIAN_TAR" \
    && check_sha256 "$DEBIAN_TAR" "$DEBIAN_TAR_SHA256"; then
    tar xJf "$DEBIAN_TAR"
    patched=
    while read -r p || [ -n "$p" ]; do
        case "$p" in ''|'#'*|debian-config) continue ;; esac
        log "applying debian/patches/$p"
        patch -d "$src" -p1 --forward --quiet < "debian/patches/$p" >&2
        patched="$patched $p"
    done < debian/patches/series
else
    # The pool keeps only the newest Debian revision; the orig tarball is what is pinned.
    log "WARNING: $DEBIAN_TAR not available; building upstream $VERSION without Debian's CVE patches"
fi

log "configuring (log: $work/build.log)"
cd "$src"
if ! { ./configure --prefix="$PREFIX" --without-cares --without-pam --without-systemd \
        && make -j"$(nproc)" pgbouncer; } >"$work/build.log" 2>&1; then
    tail -n 40 "$work/build.log" >&2
    log "build failed"
    exit 1
fi

v=$(version_of ./pgbouncer)
new_enough "$v" || { log "built binary reports version '$v'"; exit 1; }

# Install atomically: build the new prefix aside, then swap it in.
stage=$work/prefix
mkdir -p "$stage/bin"
install -m 0755 ./pgbouncer "$stage/bin/pgbouncer"
strip "$stage/bin/pgbouncer" 2>/dev/null || true
cp "$work/build.log" "$stage/build.log"
end=$(date +%s)
{
    echo "version=$v"
    echo "source=$POOL/$ORIG sha256=$ORIG_SHA256"
    echo "debian_patches=${patched# }"
    echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ) seconds=$((end - start))"
} >"$stage/BUILD-INFO"
rm -rf "$PREFIX"
mv "$stage" "$PREFIX"

log "built PgBouncer $v in $((end - start))s (deps + download + build) -> $BIN"
printf '%s\n' "$BIN"
