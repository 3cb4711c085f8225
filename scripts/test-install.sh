#!/usr/bin/env bash
# Tests scripts/install.sh against a fake release server on 127.0.0.1 (python3 -m http.server)
# that holds what scripts/dist.sh makes of the built binaries, laid out as GitHub serves
# releases. Installs: the latest release with curl, with wget, with BusyBox's sh and wget (when
# BusyBox is here), and piped from the served install.sh as the README shows it; a chosen
# version; the aarch64 binary by CIRELAY_ARCH; a reinstall over an installation. Refusals,
# each one line on stderr with nothing installed: a checksum mismatch, an unknown
# architecture, a missing directory, none given, a release that does not exist, a name taken
# by another program.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "test-install: FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
install_debs() {
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
}
missing=()
for tool in python3 curl wget; do command -v "$tool" >/dev/null || missing+=("$tool"); done
[ ${#missing[@]} -eq 0 ] || install_debs "${missing[@]}"

sh -n scripts/install.sh || fail "install.sh does not parse as sh"
if command -v shellcheck >/dev/null; then
    shellcheck -s sh scripts/install.sh || fail "shellcheck -s sh scripts/install.sh"
    ok "install.sh passes sh -n and shellcheck -s sh"
else
    ok "install.sh passes sh -n (no shellcheck here)"
fi

x86=x86_64-unknown-linux-musl
arm=aarch64-unknown-linux-musl
for target in $x86 $arm; do
    [ -x "target/$target/release/cirelay" ] || scripts/build-static.sh "$target"
done
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
case $(uname -m) in
    x86_64) native=$x86 ;;
    aarch64) native=$arm ;;
    *) fail "no release binary runs on $(uname -m)" ;;
esac

work=$(mktemp -d)
server_pid=""
cleanup() {
    [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# The releases: the latest (this version), the same under its tag, an older one whose
# "binary" is a script that says its version, and one whose binaries changed after their
# checksums were made.
releases=$work/srv/releases
scripts/dist.sh "$releases/latest/download" >/dev/null
mkdir -p "$releases/download"
cp -r "$releases/latest/download" "$releases/download/v$version"
old=0.0.1
mkdir "$releases/download/v$old"
for target in $x86 $arm; do
    printf '#!/bin/sh\necho "cirelay %s"\n' "$old" >"$releases/download/v$old/cirelay-$target"
    (cd "$releases/download/v$old" && sha256sum "cirelay-$target" >"cirelay-$target.sha256")
done
tampered=0.0.2
cp -r "$releases/latest/download" "$releases/download/v$tampered"
for target in $x86 $arm; do printf 'x' >>"$releases/download/v$tampered/cirelay-$target"; done

python3 -u -m http.server --bind 127.0.0.1 --directory "$work/srv" 0 >"$work/server.log" 2>&1 &
server_pid=$!
port=""
for _ in $(seq 100); do
    port=$(sed -n 's/^Serving HTTP on 127\.0\.0\.1 port \([0-9]*\).*/\1/p' "$work/server.log")
    [ -z "$port" ] || break
    sleep 0.05
done
[ -n "$port" ] || fail "the release server did not start: $(cat "$work/server.log")"
export CIRELAY_RELEASES_URL=http://127.0.0.1:$port/releases
unset CIRELAY_INSTALL_DIR CIRELAY_VERSION CIRELAY_ARCH
requests() { grep -c '"GET ' "$work/server.log" || true; }

# Exactly the tools install.sh may rely on, with one downloader: what a slim image has.
tools() { # DIR DOWNLOADER
    mkdir "$1"
    for tool in sh uname mktemp rm chmod cp mv ln readlink cut tr sha256sum "$2"; do
        ln -s "$(command -v "$tool")" "$1/$tool"
    done
}
tools "$work/with-curl" curl
tools "$work/with-wget" wget
# Alpine-like: BusyBox's sh, wget and the rest, when BusyBox is here.
busybox=""
if command -v busybox >/dev/null; then
    busybox=$work/with-busybox
    mkdir "$busybox"
    for tool in sh uname mktemp rm chmod cp mv ln readlink cut tr sha256sum wget; do
        ln -s "$(command -v busybox)" "$busybox/$tool"
    done
fi

n=0
newdir() { n=$((n + 1)); dir=$work/dir-$n; mkdir "$dir"; }
# install ENV... -- ARGS...: install.sh under sh, its stderr in $work/err, its status in $code.
install() {
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    set +e
    env "${envs[@]}" sh scripts/install.sh "$@" >"$work/out" 2>"$work/err"
    code=$?
    set -e
}
entries() { (cd "$1" && shopt -s dotglob nullglob && echo *); } # DIR: its names, dotfiles too
installed_ok() { # DIR TARGET: the release's binary and both names are there, and nothing else
    cmp -s "$1/cirelay" "target/$2/release/cirelay" || fail "$1/cirelay is not the $2 binary"
    [ -x "$1/cirelay" ] || fail "$1/cirelay is not executable"
    for name in codefresh codeship_restart_build; do
        [ "$(readlink "$1/$name")" = cirelay ] || fail "$1/$name is not a link to cirelay"
    done
    [ "$(entries "$1")" = "cirelay codefresh codeship_restart_build" ] ||
        fail "$1 holds more than cirelay and its names: $(entries "$1")"
}
refused() { # WORDS DESCRIPTION: install.sh failed with one line on stderr, naming WORDS
    [ "$code" != 0 ] || fail "$2: install.sh succeeded"
    [ "$(wc -l <"$work/err")" = 1 ] || fail "$2: expected one line on stderr, got: $(cat "$work/err")"
    grep -q "$1" "$work/err" || fail "$2: expected '$1' on stderr, got: $(cat "$work/err")"
    [ ! -s "$work/out" ] || fail "$2: printed on stdout: $(cat "$work/out")"
    ok "$2 is refused: $(cat "$work/err")"
}

newdir
install PATH="$work/with-curl" -- "$dir"
[ "$code" = 0 ] || fail "install with curl exited $code: $(cat "$work/err")"
installed_ok "$dir" $native
[ "$("$dir/cirelay" --version)" = "cirelay $version" ] || fail "the installed cirelay says '$("$dir/cirelay" --version)'"
"$dir/codeship_restart_build" --help >/dev/null || fail "codeship_restart_build does not run"
ok "latest release with curl into DIR: $(cat "$work/err")"

install PATH="$work/with-curl" -- "$dir"
[ "$code" = 0 ] || fail "a reinstall exited $code: $(cat "$work/err")"
installed_ok "$dir" $native
ok "a reinstall replaces the binary and keeps the links"

newdir
set +e
curl -fsSL "$CIRELAY_RELEASES_URL/latest/download/install.sh" | PATH="$work/with-curl" sh -s -- "$dir" 2>"$work/err"
code=$?
set -e
[ "$code" = 0 ] || fail "curl … | sh -s -- DIR exited $code: $(cat "$work/err")"
installed_ok "$dir" $native
ok "curl … /latest/download/install.sh | sh -s -- DIR"

newdir
install PATH="$work/with-wget" "CIRELAY_INSTALL_DIR=$dir" --
[ "$code" = 0 ] || fail "install with wget exited $code: $(cat "$work/err")"
installed_ok "$dir" $native
ok "latest release with wget into CIRELAY_INSTALL_DIR"

if [ -n "$busybox" ]; then
    newdir
    install PATH="$busybox" -- "$dir"
    [ "$code" = 0 ] || fail "install with BusyBox exited $code: $(cat "$work/err")"
    installed_ok "$dir" $native
    install PATH="$busybox" CIRELAY_VERSION=9.9.9 -- "$dir"
    refused "could not download" "with BusyBox, a release that does not exist"
    ok "latest release with BusyBox's sh and wget"
else
    ok "BusyBox is not here; its sh and wget are not tried"
fi

newdir
install PATH="$work/with-curl" "CIRELAY_VERSION=$old" -- "$dir"
[ "$code" = 0 ] || fail "CIRELAY_VERSION=$old exited $code: $(cat "$work/err")"
[ "$("$dir/cirelay" --version)" = "cirelay $old" ] || fail "CIRELAY_VERSION=$old installed '$("$dir/cirelay" --version)'"
install PATH="$work/with-wget" -- --version "v$version" "$dir"
[ "$code" = 0 ] || fail "--version v$version exited $code: $(cat "$work/err")"
installed_ok "$dir" $native
ok "a chosen version: CIRELAY_VERSION=$old, then --version v$version over it"

newdir
install PATH="$work/with-curl" CIRELAY_ARCH=arm64 -- "$dir"
[ "$code" = 0 ] || fail "CIRELAY_ARCH=arm64 exited $code: $(cat "$work/err")"
installed_ok "$dir" $arm
if [ $native != $arm ] && command -v qemu-aarch64-static >/dev/null; then
    [ "$(qemu-aarch64-static "$dir/cirelay" --version)" = "cirelay $version" ] || fail "the aarch64 binary does not run under qemu"
fi
ok "CIRELAY_ARCH=arm64 installs the aarch64 binary: $(cat "$work/err")"

newdir
install PATH="$work/with-curl" "CIRELAY_VERSION=$tampered" -- "$dir"
refused "checksum mismatch" "a binary that does not match its .sha256"
[ -z "$(entries "$dir")" ] || fail "a checksum mismatch left files in $dir: $(entries "$dir")"

before=$(requests)
install PATH="$work/with-curl" CIRELAY_ARCH=riscv64 -- "$dir"
refused "architecture 'riscv64'" "an unknown architecture"
[ "$(requests)" = "$before" ] || fail "an unknown architecture still downloaded something"
[ -z "$(entries "$dir")" ] || fail "an unknown architecture left files in $dir"

install PATH="$work/with-curl" -- "$work/no-such-dir"
refused "not a directory" "a missing directory"
[ ! -e "$work/no-such-dir" ] || fail "install.sh created the missing directory"

install PATH="$work/with-curl" --
refused "say where to install" "no directory given"

install PATH="$work/with-curl" CIRELAY_VERSION=9.9.9 -- "$dir"
refused "could not download" "a release that does not exist"
[ -z "$(entries "$dir")" ] || fail "a missing release left files in $dir"

echo "#!/bin/sh" >"$dir/codefresh"
before=$(requests)
install PATH="$work/with-curl" -- "$dir"
refused "codefresh is another program" "a codefresh that is another program"
[ "$(entries "$dir")" = codefresh ] || fail "install.sh left files beside the other codefresh: $(entries "$dir")"
[ "$(cat "$dir/codefresh")" = "#!/bin/sh" ] || fail "the other codefresh was touched"
[ "$(requests)" = "$before" ] || fail "install.sh downloaded before finding the name taken"

echo "test-install: all checks passed"
