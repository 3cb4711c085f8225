#!/usr/bin/env bash
# Builds the release binaries: fully static musl executables that run in an empty root.
#
#   scripts/build-static.sh            both: x86_64-unknown-linux-musl, aarch64-unknown-linux-musl
#   scripts/build-static.sh TARGET...  only those
#
# Each lands in target/TARGET/release/cirelay. Installs what a fresh Debian machine lacks: the
# musl targets, and a C compiler for ring's C and assembly: Debian's musl-gcc for this machine's
# own architecture (as it always was for x86_64), Zig through cargo-zigbuild for the other one,
# because Debian has no musl cross compiler. The Dockerfile runs this same script, so the image
# and CI build the binaries the same way.
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned so that every machine cross-compiles with the same linker and libc headers; from PyPI,
# into a virtual environment because Debian's Python refuses packages installed outside one.
zig_packages=(cargo-zigbuild==0.24.1 ziglang==0.17.1)
zig_env=$PWD/target/tools/zig

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl)
for target in "${targets[@]}"; do
    case $target in
        x86_64-unknown-linux-musl | aarch64-unknown-linux-musl) ;;
        *)
            echo "build-static: no release build for '$target' (x86_64-unknown-linux-musl, aarch64-unknown-linux-musl)" >&2
            exit 2
            ;;
    esac
done

install_debs() {
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
}

zig_tools() {
    if [ "$(cat "$zig_env/installed" 2>/dev/null)" = "${zig_packages[*]}" ]; then
        return
    fi
    local debs=()
    command -v python3 >/dev/null || debs+=(python3)
    # Debian's Python keeps venv's pip bootstrap in a package of its own.
    python3 -c 'import ensurepip, venv' 2>/dev/null || debs+=(python3-venv)
    [ ${#debs[@]} -eq 0 ] || install_debs "${debs[@]}"
    echo "build-static: installing ${zig_packages[*]} into $zig_env" >&2
    rm -rf "$zig_env"
    python3 -m venv "$zig_env"
    "$zig_env/bin/pip" install --quiet --disable-pip-version-check "${zig_packages[@]}"
    echo "${zig_packages[*]}" >"$zig_env/installed"
}

# Non-PIE: a static executable needs no relocations of its own at start (about 90 KB of
# .rela.dyn in a PIE), and nothing here relies on its address being random.
export RUSTFLAGS="${RUSTFLAGS:-} -C relocation-model=static"

# The release profile aborts on panic, so nothing ever unwinds: the unwind tables (about 230
# KB, a tenth of the binary) only feed backtraces, which then print no frames. LLVM's objcopy
# leaves their bytes in the file; GNU binutils' shrinks it, one build of binutils per
# architecture (Debian's own objcopy knows only this machine's).
strip_unwind_tables() { # TARGET BIN
    local arch=${1%%-*} tool
    tool="$arch-linux-gnu-objcopy"
    if ! command -v "$tool" >/dev/null 2>&1; then
        if [ "$arch" = "$machine" ] && command -v objcopy >/dev/null 2>&1; then
            tool=objcopy
        else
            install_debs "binutils-${arch//_/-}-linux-gnu"
        fi
    fi
    "$tool" --remove-section=.eh_frame --remove-section=.eh_frame_hdr \
        --remove-section=.gcc_except_table "$2"
}

machine=$(uname -m)
for target in "${targets[@]}"; do
    if ! rustup target list --installed | grep -qx "$target"; then
        rustup target add "$target"
    fi
    if [ "${target%%-*}" = "$machine" ]; then
        command -v musl-gcc >/dev/null 2>&1 || install_debs musl-tools
        env "CC_${target//-/_}=musl-gcc" cargo build --release --locked --target "$target"
    else
        zig_tools
        # cargo-zigbuild finds Zig as `python3 -m ziglang`: the environment's python3 comes first.
        PATH="$zig_env/bin:$PATH" cargo zigbuild --release --locked --target "$target"
    fi
    bin="target/$target/release/cirelay"
    strip_unwind_tables "$target" "$bin"
    echo "built $bin ($(stat -c %s "$bin") bytes)"
done
