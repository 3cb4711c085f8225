#!/usr/bin/env bash
# Runs every fuzz target in tests/fuzz for a bounded time, one after the other:
#   scripts/fuzz.sh                      # each target for FUZZ_SECONDS (default 30)
#   FUZZ_SECONDS=300 scripts/fuzz.sh var_file codeship_v2_answer
# Needs a nightly toolchain (`rustup toolchain install nightly`); installs cargo-fuzz when
# missing. Exits non-zero when a target found a crash: libFuzzer's input is then in
# tests/fuzz/artifacts/TARGET/ (replay it with `cargo +nightly fuzz run --fuzz-dir
# tests/fuzz --sanitizer none TARGET FILE`), and it belongs in a regression #[test] next to
# the code it broke.
# Not part of CI: fuzzing is open-ended and the machine is shared.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-30}
# cirelay's own code has no unsafe code, so AddressSanitizer finds little a panic would not,
# and it costs a large part of the speed; FUZZ_SANITIZER=address turns it back on (worth it for
# spec_file, which reaches the YAML crate's parser, translated from libyaml's C).
sanitizer=${FUZZ_SANITIZER:-none}
fuzz_dir=tests/fuzz

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "--- installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi
if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz.sh: cargo-fuzz needs a nightly toolchain: rustup toolchain install nightly" >&2
    exit 4
fi

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list --fuzz-dir "$fuzz_dir")
fi

echo "--- building ${#targets[@]} targets"
cargo +nightly fuzz build --fuzz-dir "$fuzz_dir" --sanitizer "$sanitizer"

failed=()
for target in "${targets[@]}"; do
    echo "--- $target for ${seconds}s"
    # The first directory collects what libFuzzer finds (git-ignored); the committed seeds
    # give it the shapes of real answers to start from.
    corpus=("$fuzz_dir/corpus/$target")
    mkdir -p "${corpus[0]}"
    [ -d "$fuzz_dir/seeds/$target" ] && corpus+=("$fuzz_dir/seeds/$target")
    if ! cargo +nightly fuzz run --fuzz-dir "$fuzz_dir" --sanitizer "$sanitizer" "$target" "${corpus[@]}" -- \
        -max_total_time="$seconds" -dict="$fuzz_dir/answers.dict" -print_final_stats=1; then
        failed+=("$target")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz.sh: crashes found by: ${failed[*]} (inputs in $fuzz_dir/artifacts/)" >&2
    exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets ran ${seconds}s each without a crash"
