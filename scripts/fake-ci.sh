# shellcheck shell=bash
# Sourced by the scripts that run against the project's fake CI (demo, empty-root smoke test,
# benchmarks); run from the repository root. Builds the fake (the `fake-ci` binary, which
# shares tests/it/fakes with the integration tests) and gives:
#   $work                          a temporary directory, removed on exit
#   start_fake SCENARIO [STATUS]   starts a fake and sets $fake_url (FAKE_CI_* settings pass through)
#                                  and $fake_out, the file of everything it printed
#   stop_fake                      stops the newest fake
#   keep_pid PID                   another background process to stop on exit
# Every fake and kept process is stopped when the script exits.

# Not --quiet: a first build compiles the dependencies for a minute, and a silent minute
# looks like a hang.
echo "--- building the fake CI: cargo build --features fake-ci --bin fake-ci" >&2
cargo build --features fake-ci --bin fake-ci
fake_bin=$PWD/target/debug/fake-ci
work=$(mktemp -d)
background_pids=()
fake_pids=()

stop_background() {
    for pid in "${fake_pids[@]}" "${background_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap stop_background EXIT

keep_pid() { background_pids+=("$1"); }

start_fake() {
    local out="$work/fake-${#fake_pids[@]}"
    # A forgotten fake still stops by itself.
    FAKE_CI_SECONDS=${FAKE_CI_SECONDS:-900} "$fake_bin" "$@" >"$out" &
    fake_pids+=($!)
    for _ in $(seq 200); do
        if [ -s "$out" ]; then
            # shellcheck disable=SC2034 # read by the sourcing script
            fake_url=$(head -n1 "$out")
            # shellcheck disable=SC2034 # read by the sourcing script
            fake_out=$out
            return
        fi
        sleep 0.05
    done
    echo "the fake CI ($1) did not start" >&2
    exit 1
}

stop_fake() { kill "${fake_pids[-1]}" 2>/dev/null || true; }
