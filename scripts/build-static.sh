#!/usr/bin/env bash
# Builds the release binary for x86_64-unknown-linux-musl: fully static, runs in an empty root.
# Installs what a fresh Debian machine lacks: the musl target and musl-gcc (ring's C code needs it).
# The Dockerfile runs this same script, so the image and CI build the binary the same way.
set -euo pipefail
cd "$(dirname "$0")/.."

target=x86_64-unknown-linux-musl
if ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target"
fi
if ! command -v musl-gcc >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends musl-tools
fi
export CC_x86_64_unknown_linux_musl=musl-gcc
cargo build --release --locked --target "$target"

bin="target/$target/release/cirelay"
echo "built $bin ($(stat -c %s "$bin") bytes)"
