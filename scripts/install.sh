#!/bin/sh
# Installs cirelay's static Linux binary from a release, checked against the release's .sha256,
# with the multi-call names codefresh and codeship_restart_build as links beside it:
#
#   curl -fsSL https://github.com/cirelay/cirelay/releases/latest/download/install.sh | sh -s -- DIR
#   sh install.sh [--version VERSION] [DIR]
#
#   DIR                    an existing directory (or CIRELAY_INSTALL_DIR)
#   --version VERSION      0.1.0 or v0.1.0 (or CIRELAY_VERSION); default: the latest release
#   CIRELAY_RELEASES_URL   where the releases are (default https://github.com/cirelay/cirelay/releases),
#                          laid out as on GitHub: BASE/latest/download/ASSET, BASE/download/vVERSION/ASSET
#   CIRELAY_ARCH           the architecture to install for, instead of `uname -m`
#
# Needs curl or wget, and sha256sum, shasum or openssl. Refuses, with one line on stderr and
# nothing installed, an unknown architecture, a missing directory, a download that does not
# match its checksum, and a codefresh or codeship_restart_build in DIR that is another program.

# Everything is in a function called on the last line, so a download cut short while piped
# into sh runs nothing.
main() {
    set -eu
    me="cirelay install"
    version=${CIRELAY_VERSION:-}
    dir=${CIRELAY_INSTALL_DIR:-}
    dir_given=""
    while [ $# -gt 0 ]; do
        case $1 in
            --version)
                [ $# -ge 2 ] || die "--version needs a value, e.g. --version 0.1.0"
                version=$2
                shift 2
                ;;
            --version=*)
                version=${1#--version=}
                shift
                ;;
            -h | --help)
                sed -n '2,16s/^# \{0,1\}//p' "$0" 2>/dev/null ||
                    echo "usage: sh install.sh [--version VERSION] DIR"
                return 0
                ;;
            -*) die "unknown option '$1' (usage: sh install.sh [--version VERSION] DIR)" ;;
            *)
                [ -z "$dir_given" ] || die "one directory only, got '$dir_given' and '$1'"
                dir_given=$1
                dir=$1
                shift
                ;;
        esac
    done

    [ -n "$dir" ] || die "say where to install: sh install.sh DIR (or CIRELAY_INSTALL_DIR=DIR)"
    [ -d "$dir" ] || die "$dir is not a directory; create it first"
    [ -w "$dir" ] || die "$dir is not writable"

    os=$(uname -s)
    [ "$os" = Linux ] || die "cirelay's releases are Linux binaries; this machine runs $os"
    arch=${CIRELAY_ARCH:-$(uname -m)}
    case $arch in
        x86_64 | amd64) target=x86_64-unknown-linux-musl ;;
        aarch64 | arm64) target=aarch64-unknown-linux-musl ;;
        *) die "no cirelay release for the architecture '$arch' (there are x86_64 and aarch64 builds)" ;;
    esac

    case $version in
        *[!0-9A-Za-z.+-]*) die "'$version' is not a version (0.1.0, v0.1.0 or latest)" ;;
        "" | latest) release=latest/download ;;
        v[0-9]*) release=download/$version ;;
        [0-9]*) release=download/v$version ;;
        *) die "'$version' is not a version (0.1.0, v0.1.0 or latest)" ;;
    esac
    base=${CIRELAY_RELEASES_URL:-https://github.com/cirelay/cirelay/releases}
    url=${base%/}/$release/cirelay-$target

    if command -v curl >/dev/null 2>&1; then
        downloader=curl
    elif command -v wget >/dev/null 2>&1; then
        downloader=wget
    else
        die "needs curl or wget to download"
    fi
    if command -v sha256sum >/dev/null 2>&1; then
        summer=sha256sum
    elif command -v shasum >/dev/null 2>&1; then
        summer=shasum
    elif command -v openssl >/dev/null 2>&1; then
        summer=openssl
    else
        die "needs sha256sum, shasum or openssl to check the download"
    fi

    # Before anything is downloaded: the names must be free or already this installation's.
    [ ! -d "$dir/cirelay" ] || die "$dir/cirelay is a directory"
    for name in codefresh codeship_restart_build; do
        if [ -L "$dir/$name" ]; then
            [ "$(readlink "$dir/$name")" = cirelay ] ||
                die "$dir/$name links elsewhere; move it away or install elsewhere"
        elif [ -e "$dir/$name" ]; then
            die "$dir/$name is another program; move it away or install elsewhere"
        fi
    done

    tmp=$(mktemp -d "${TMPDIR:-/tmp}/cirelay-install.XXXXXX")
    staged=""
    trap 'rm -rf "$tmp"; [ -z "$staged" ] || rm -f "$staged"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    download "$url" "$tmp/cirelay"
    download "$url.sha256" "$tmp/cirelay.sha256"
    expected=$(tr -d '\r' <"$tmp/cirelay.sha256" | cut -d' ' -f1 | tr 'A-F' 'a-f')
    case $expected in
        *[!0-9a-f]* | "") die "$url.sha256 holds no SHA-256 checksum" ;;
    esac
    [ ${#expected} = 64 ] || die "$url.sha256 holds no SHA-256 checksum"
    actual=$(sha256 "$tmp/cirelay")
    [ "$actual" = "$expected" ] ||
        die "checksum mismatch: cirelay-$target is $actual, its .sha256 says $expected; nothing installed"

    chmod 755 "$tmp/cirelay"
    # Copied next to its place first, so the rename that replaces an older cirelay is atomic.
    staged=$dir/.cirelay.new.$$
    cp "$tmp/cirelay" "$staged"
    mv -f "$staged" "$dir/cirelay"
    staged=""
    for name in codefresh codeship_restart_build; do
        [ -L "$dir/$name" ] || ln -s cirelay "$dir/$name"
    done

    # A binary for another architecture (CIRELAY_ARCH) does not run here; say what was installed.
    installed=$("$dir/cirelay" --version 2>/dev/null) || installed="cirelay ($target)"
    echo "$me: installed $installed in $dir, with codefresh and codeship_restart_build" >&2
}

die() {
    echo "$me: $*" >&2
    exit 1
}

download() { # URL FILE
    if [ "$downloader" = curl ]; then
        curl -fsL --retry 3 -o "$2" "$1" && return
    else
        # BusyBox's wget reports an HTTP error even when quiet; the line below says it once.
        wget -q --tries=3 -O "$2" "$1" 2>/dev/null && return
    fi
    die "could not download $1 (no such release, or the server is unreachable)"
}

sha256() { # FILE
    case $summer in
        sha256sum) sha256sum "$1" | cut -d' ' -f1 ;;
        shasum) shasum -a 256 "$1" | cut -d' ' -f1 ;;
        openssl) openssl dgst -sha256 -r "$1" | cut -d' ' -f1 ;;
    esac
}

main "$@"
