#!/usr/bin/env bash
# The release's assets, from the binaries scripts/build-static.sh built:
#   OUT/cirelay-TARGET, OUT/cirelay-TARGET.sha256 (sha256sum's format), for each target,
#   OUT/install.sh
# The release workflow attaches them to the GitHub release; scripts/test-install.sh serves
# them to scripts/install.sh, so the names it downloads are the names released.
#
#   scripts/dist.sh OUT
set -euo pipefail
cd "$(dirname "$0")/.."

[ $# = 1 ] || { echo "usage: scripts/dist.sh OUT" >&2; exit 2; }
out=$1
mkdir -p "$out"
for target in x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
    bin=target/$target/release/cirelay
    [ -x "$bin" ] || { echo "dist: $bin is missing; run scripts/build-static.sh" >&2; exit 1; }
    cp "$bin" "$out/cirelay-$target"
    # Named without a directory, so `sha256sum -c` works where the asset is downloaded.
    (cd "$out" && sha256sum "cirelay-$target" >"cirelay-$target.sha256")
done
cp scripts/install.sh "$out/install.sh"
ls -l "$out"
