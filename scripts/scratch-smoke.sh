#!/usr/bin/env bash
# Proves the release binary needs nothing but itself: it is copied alone into an empty
# directory (no libc, no /etc, no CA file, no shell) and run there with chroot (or an
# unprivileged `unshare --root`) against the project's fake CI on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=target/x86_64-unknown-linux-musl/release/cirelay
[ -x "$bin" ] || scripts/build-static.sh
# shellcheck source=scripts/fake-ci.sh
. scripts/fake-ci.sh
fail() { echo "scratch-smoke: FAIL: $*" >&2; exit 1; }

root="$work/root"
mkdir "$root"
cp "$bin" "$root/cirelay"
ln -s cirelay "$root/codeship_restart_build"
ln -s cirelay "$root/codefresh"
[ "$(find "$root" -mindepth 1 | wc -l)" = 3 ] || fail "the root holds more than the binary and its names"
command -v readelf >/dev/null || fail "readelf (Debian's binutils) is needed to check for a dynamic loader"
if readelf -l "$bin" | grep -q INTERP; then fail "$bin asks for a dynamic loader"; fi

chroot_bin=$(command -v chroot || echo /usr/sbin/chroot)
unshare_bin=$(command -v unshare || echo /usr/bin/unshare)
run_in_root() { # ENV... -- ARGS...
    local envs=()
    while [ "$1" != "--" ]; do envs+=("$1"); shift; done
    shift
    if [ "$(id -u)" = 0 ]; then
        env -i "${envs[@]}" "$chroot_bin" "$root" "$@"
    else
        env -i "${envs[@]}" "$unshare_bin" --map-root-user --root="$root" "$@"
    fi
}

version=$(run_in_root -- /cirelay --version)
[[ "$version" == "cirelay "* ]] || fail "--version printed '$version'"
echo "ok: $version runs in an empty root"

v1_env() {
    echo CODESHIP_API_KEY=v1key-9f8e7d6c5b4a39281706 CODESHIP_API_PROJECT_ID=12345 CODESHIP_API_BRANCH=main "CODESHIP_API_URL=$1"
}

start_fake codeship-v1 success
url=$fake_url
# shellcheck disable=SC2046
out=$(run_in_root $(v1_env "$url") -- /codeship_restart_build --wait --interval 50ms 2>"$work/err") \
    || fail "codeship_restart_build exited $?: $(cat "$work/err")"
[ "$out" = 2000 ] || fail "expected build id 2000 on stdout, got '$out'"
echo "ok: codeship_restart_build restarted and waited in an empty root (build $out)"

start_fake codeship-v1 error
url=$fake_url
set +e
# shellcheck disable=SC2046
run_in_root $(v1_env "$url") -- /cirelay codeship restart-latest --wait --interval 50ms >/dev/null 2>"$work/err"
code=$?
set -e
[ "$code" = 1 ] || fail "a failed downstream build should exit 1, got $code: $(cat "$work/err")"
echo "ok: a failed downstream build exits 1"

# (the key is the fake's own: tests/support/codeship_v1.rs)
# TLS with the bundled roots: a self-signed server must be refused for its certificate, which
# shows rustls started and looked for a trust anchor without any CA file on disk.
if command -v openssl >/dev/null 2>&1; then
    openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -days 1 -addext basicConstraints=critical,CA:FALSE \
        -keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1
    port=$((20000 + RANDOM % 20000))
    openssl s_server -quiet -accept "127.0.0.1:$port" -cert "$work/cert.pem" -key "$work/key.pem" -www >/dev/null 2>&1 &
    keep_pid $!
    sleep 0.5
    set +e
    # shellcheck disable=SC2046
    run_in_root $(v1_env "https://127.0.0.1:$port") CIRELAY_RETRIES=0 -- /cirelay codeship restart-latest >/dev/null 2>"$work/err"
    code=$?
    set -e
    grep -qi "certificate\|issuer" "$work/err" || fail "expected a certificate error over TLS, got ($code): $(cat "$work/err")"
    echo "ok: TLS runs with bundled roots and no CA file ($(grep -o 'UnknownIssuer\|[Cc]ertificate[^;]*' "$work/err" | head -n1))"
else
    echo "skip: no openssl here to serve TLS"
fi
grep -q v1key-9f8e7d6c5b4a39281706 "$work/err" && fail "the API key leaked into output"
echo "scratch-smoke: all checks passed"
