#!/usr/bin/env bash
# Proves each release binary needs nothing but itself: it is copied alone into an empty
# directory (no libc, no /etc, no CA file, no shell) and run there with chroot (or an
# unprivileged `unshare --root`) against the project's fake CI on 127.0.0.1.
#
#   scripts/scratch-smoke.sh            both release targets
#   scripts/scratch-smoke.sh TARGET...  only those
#
# A binary for another architecture runs under QEMU's user-mode emulator (qemu-ARCH-static,
# from Debian's qemu-user-static). The emulator is static too and is copied into the root
# beside the binary, so the binary still finds nothing else there, and no binfmt
# registration is needed.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl)
target=""
fail() { echo "scratch-smoke: FAIL${target:+ ($target)}: $*" >&2; exit 1; }
install_debs() {
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
}
command -v readelf >/dev/null || fail "readelf (Debian's binutils) is needed to check for a dynamic loader"
for target in "${targets[@]}"; do
    [ -x "target/$target/release/cirelay" ] || scripts/build-static.sh "$target"
done
target=""

# shellcheck source=scripts/fake-ci.sh
. scripts/fake-ci.sh

chroot_bin=$(command -v chroot || echo /usr/sbin/chroot)
unshare_bin=$(command -v unshare || echo /usr/bin/unshare)
root=""
emulator=()
run_in_root() { # ENV... -- ARGS...
    local envs=()
    while [ "$1" != "--" ]; do envs+=("$1"); shift; done
    shift
    if [ "$(id -u)" = 0 ]; then
        env -i "${envs[@]}" "$chroot_bin" "$root" "${emulator[@]}" "$@"
    else
        env -i "${envs[@]}" "$unshare_bin" --map-root-user --root="$root" "${emulator[@]}" "$@"
    fi
}

# (the key is the fake's own: tests/it/fakes/codeship_v1.rs)
v1_env() {
    echo CODESHIP_API_KEY=v1key-9f8e7d6c5b4a39281706 CODESHIP_API_PROJECT_ID=12345 CODESHIP_API_BRANCH=main "CODESHIP_API_URL=$1"
}

# TLS with the bundled roots: one self-signed server for every target.
tls_port=""
if command -v openssl >/dev/null 2>&1; then
    openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -days 1 -addext basicConstraints=critical,CA:FALSE \
        -keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1
    tls_port=$((20000 + RANDOM % 20000))
    openssl s_server -quiet -accept "127.0.0.1:$tls_port" -cert "$work/cert.pem" -key "$work/key.pem" -www >/dev/null 2>&1 &
    keep_pid $!
    sleep 0.5
fi

smoke() {
    local bin=target/$target/release/cirelay arch=${target%%-*} machine expected_entries=3 qemu version out code
    root="$work/root-$target"
    mkdir "$root"
    cp "$bin" "$root/cirelay"
    ln -s cirelay "$root/codeship_restart_build"
    ln -s cirelay "$root/codefresh"
    emulator=()
    if [ "$arch" != "$(uname -m)" ]; then
        qemu=$(command -v "qemu-$arch-static" || true)
        if [ -z "$qemu" ]; then
            install_debs qemu-user-static
            qemu=$(command -v "qemu-$arch-static") || fail "qemu-user-static has no qemu-$arch-static"
        fi
        if readelf -l "$qemu" | grep -q INTERP; then fail "$qemu is not static, so it cannot run in an empty root"; fi
        cp "$qemu" "$root/qemu-$arch-static"
        emulator=("/qemu-$arch-static")
        expected_entries=4
    fi
    [ "$(find "$root" -mindepth 1 | wc -l)" = "$expected_entries" ] || fail "the root holds more than the binary and its names"
    if readelf -l "$bin" | grep -q INTERP; then fail "$bin asks for a dynamic loader"; fi
    case $arch in
        x86_64) machine=X86-64 ;;
        aarch64) machine=AArch64 ;;
    esac
    readelf -h "$bin" | grep -q "Machine: *.*$machine" || fail "$bin is not an $arch executable"

    version=$(run_in_root -- /cirelay --version)
    [[ "$version" == "cirelay "* ]] || fail "--version printed '$version'"
    echo "ok: $version runs in an empty root${emulator[*]:+, under ${emulator[0]#/}}"

    start_fake codeship-v1 success
    # shellcheck disable=SC2046
    out=$(run_in_root $(v1_env "$fake_url") -- /codeship_restart_build --wait --interval 50ms 2>"$work/err") \
        || fail "codeship_restart_build exited $?: $(cat "$work/err")"
    [ "$out" = 2000 ] || fail "expected build id 2000 on stdout, got '$out'"
    echo "ok: codeship_restart_build restarted and waited in an empty root (build $out)"
    grep -q v1key-9f8e7d6c5b4a39281706 "$work/err" && fail "the API key leaked into output"

    start_fake codeship-v1 error
    set +e
    # shellcheck disable=SC2046
    run_in_root $(v1_env "$fake_url") -- /cirelay codeship restart-latest --wait --interval 50ms >/dev/null 2>"$work/err"
    code=$?
    set -e
    [ "$code" = 1 ] || fail "a failed downstream build should exit 1, got $code: $(cat "$work/err")"
    echo "ok: a failed downstream build exits 1"
    grep -q v1key-9f8e7d6c5b4a39281706 "$work/err" && fail "the API key leaked into output"

    # A self-signed server must be refused for its certificate, which shows rustls started
    # and looked for a trust anchor without any CA file on disk.
    if [ -n "$tls_port" ]; then
        set +e
        # shellcheck disable=SC2046
        run_in_root $(v1_env "https://127.0.0.1:$tls_port") CIRELAY_RETRIES=0 -- /cirelay codeship restart-latest >/dev/null 2>"$work/err"
        code=$?
        set -e
        grep -qi "certificate\|issuer" "$work/err" || fail "expected a certificate error over TLS, got ($code): $(cat "$work/err")"
        echo "ok: TLS runs with bundled roots and no CA file ($(grep -o 'UnknownIssuer\|[Cc]ertificate[^;]*' "$work/err" | head -n1))"
        grep -q v1key-9f8e7d6c5b4a39281706 "$work/err" && fail "the API key leaked into output"
    else
        echo "skip: no openssl here to serve TLS"
    fi
    return 0
}

for target in "${targets[@]}"; do
    echo "--- $target"
    smoke
done
echo "scratch-smoke: all checks passed (${targets[*]})"
