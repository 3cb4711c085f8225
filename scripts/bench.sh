#!/usr/bin/env bash
# Benchmarks cirelay against the project's fake CI on 127.0.0.1, side by side with the official
# Codefresh CLI (npm package `codefresh`) pointed at the same fake: binary size, start-up,
# one `codefresh run PIPELINE -d`, a 60-second wait, and the requests each command sends.
#
#   scripts/bench.sh            everything; the tables also replace the results in BENCHMARKS.md
#   scripts/bench.sh --quick    skips the 60-second wait and leaves BENCHMARKS.md alone
#
# BENCH_LOG_MB (default 20): the megabytes of log the followed build writes.
#
# BENCH_RUNS (default 5): runs per measure; each cell is the median. The Codefresh CLI is
# installed once into target/bench/codefresh-cli (the only network access: the npm registry).
# If it cannot be installed or run, its column says why and cirelay is still measured.
# Exits non-zero only when something could not be measured.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${BENCH_RUNS:-5}
quick=${BENCH_QUICK:-0}
for arg in "$@"; do
    case $arg in
        --quick) quick=1 ;;
        -h | --help)
            sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "bench: unknown argument '$arg' (try --help)" >&2
            exit 2
            ;;
    esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCH_RUNS must be a positive number, got '$runs'" >&2; exit 2; }

die() { echo "bench: could not measure: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

# What the Codefresh CLI is compared as; pinned so reruns compare the same thing.
cf_cli_version=${BENCH_CODEFRESH_CLI_VERSION:-1.2.7}
# The fakes' keys and ids (tests/it/fakes/*.rs).
cf_key=5f0c1d2e3a4b5c6d7e8f9a0b.cfkey-secret-0123456789abcdef
v1_key=v1key-9f8e7d6c5b4a39281706
v2_user=deploy-bot@example.com
v2_password='Pa55-w0rd:with%odd&chars'
v2_pro=7b3596c0-560e-4135-8b18-0000000000b1
v2_pro_master=b0000000-0000-4000-8000-000000000075
v2_pro_hotfix=b0000000-0000-4000-8000-000000000074
cf_newest_main=6100000000000000000000a2
cf_newest_any=6100000000000000000000a3
cf_first_new=620000000000000000000001
circle_token=CCIPAT_fake0123456789abcdef_tok
circle_main_newest=50340029-c7c4-4c43-9457-000000000029 # pipeline 41: build ok, test failed
circle_busy=5034002c-c7c4-4c43-9457-00000000002c        # pipeline 44: still running
gh_token=ghp_fakeGitHubToken0123456789abcdefXYZ
gh_newest=6000000003 # acme/deploy, ci.yml on main: failed
gh_busy=6000000004   # still in progress
# The fake lists a new run this long after its dispatch (its setting, not a measure of GitHub).
gh_list_delay=${BENCH_GITHUB_LIST_DELAY:-3}
# How often the dispatch-then-poll approach lists the runs.
gh_poll=${BENCH_GITHUB_POLL:-1}
gitlab_token=glpat-fake-access-token-0123456789

# ---------------------------------------------------------------------------------------------
# Tools: besides what scripts/build-static.sh installs (the musl target, musl-gcc), python3
# and gzip, which a bare Debian machine may lack.

install_debs() {
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
}
command -v cargo >/dev/null || die "cargo is not installed (https://rustup.rs)"
missing=()
command -v python3 >/dev/null || missing+=(python3)
command -v gzip >/dev/null || missing+=(gzip)
if [ ${#missing[@]} -gt 0 ]; then
    note "installing ${missing[*]}"
    install_debs "${missing[@]}" || die "could not install ${missing[*]}"
fi

# Python asks the fake what it received and takes medians.
# shellcheck disable=SC2016 # Python, not shell.
py='
import json, statistics, sys, urllib.request
cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "requests":
    # requests URL: the request lines the fake received, one a line.
    with urllib.request.urlopen(args[0] + "/__requests", timeout=10) as r:
        for line in json.load(r):
            print(line)
elif cmd == "median":
    # median FILE: the median of each whitespace-separated column.
    rows = [l.split() for l in open(args[0]) if l.strip()]
    print(" ".join(f"{statistics.median(float(r[i]) for r in rows):g}" for i in range(len(rows[0]))))
elif cmd == "delays":
    # delays FIFO COPY: reads a followed log as it is printed, keeps a copy, and prints
    # "lines marks median_ms p95_ms max_ms": how long each `mark NANOS` line took from being
    # written at the fake to reaching here.
    import time
    delays, lines = [], 0
    with open(args[0], "rb") as log, open(args[1], "wb") as copy:
        for line in log:
            now = time.time_ns()
            copy.write(line)
            lines += 1
            at = line.find(b"mark ")
            if at >= 0:
                delays.append((now - int(line[at + 5:].split()[0])) / 1e6)
    delays.sort()
    pick = lambda q: delays[min(len(delays) - 1, int(len(delays) * q))] if delays else -1
    print(lines, len(delays), f"{statistics.median(delays) if delays else -1:.1f}", f"{pick(0.95):.1f}", f"{delays[-1] if delays else -1:.1f}")
elif cmd == "dispatch-then-poll":
    # dispatch-then-poll API TOKEN POLL_SECONDS: what the dispatch actions did before GitHub
    # named the run: dispatch (204, no run), then list the workflow_dispatch runs every
    # POLL_SECONDS until one created since the dispatch shows up; the newest is taken.
    # Prints "wall_ms requests run_id".
    import time
    api, token, poll = args[0], args[1], float(args[2])
    headers = {"Authorization": "Bearer " + token, "Accept": "application/vnd.github+json",
               "X-GitHub-Api-Version": "2022-11-28"}
    def call(method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(api + path, data=data, method=method,
                                     headers=dict(headers, **({"Content-Type": "application/json"} if data else {})))
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read()
    began = time.monotonic()
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
    call("POST", "/repos/acme/deploy/actions/workflows/deploy.yml/dispatches", {"ref": "main", "inputs": {}})
    sent = 1
    while True:
        time.sleep(poll)
        runs = json.loads(call("GET", "/repos/acme/deploy/actions/workflows/deploy.yml/runs?event=workflow_dispatch&branch=main"))
        sent += 1
        new = [r for r in runs["workflow_runs"] if r["created_at"] >= since]
        if new:
            found = new[0]["id"]
            print(f"{(time.monotonic() - began) * 1000:.2f} {sent} {found}")
            break
'
pyrun() { python3 -c "$py" "$@"; }
# The fake is on loopback; no proxy may see these requests.
unset HTTP_PROXY HTTPS_PROXY ALL_PROXY http_proxy https_proxy all_proxy

# shellcheck source=scripts/fake-ci.sh
. scripts/fake-ci.sh || die "the fake CI did not build"

# ---------------------------------------------------------------------------------------------
echo "--- building the static binary and the fake CI" >&2
scripts/build-static.sh x86_64-unknown-linux-musl >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; die "scripts/build-static.sh failed"; }
bin=$PWD/target/x86_64-unknown-linux-musl/release/cirelay
# The launcher that measures one run: wall time, and the child's CPU time and peak RSS from
# wait4. It is a tiny static program because a child's peak RSS counts the memory of the
# process it was forked from (until exec): `cirelay --version` peaks at 0.9 MB forked from
# this launcher, but shows 3 MB forked from bash and 14 MB from python3. build-static.sh has
# just made sure musl-gcc is here.
cat >"$work/measure.c" <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* measure OUT ERR ARGV...: prints "wall_ms cpu_ms peak_rss_kb exit_code". */
int main(int argc, char **argv) {
    if (argc < 4) return 2;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    pid_t pid = fork();
    if (pid < 0) return 2;
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int out = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0 || err < 0) _exit(126);
        dup2(in, 0), dup2(out, 1), dup2(err, 2);
        execvp(argv[3], argv + 3);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) return 2;
    clock_gettime(CLOCK_MONOTONIC, &end);
    double wall = (end.tv_sec - start.tv_sec) * 1e3 + (end.tv_nsec - start.tv_nsec) / 1e6;
    double cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3
               + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    printf("%.2f %.2f %ld %d\n", wall, cpu, ru.ru_maxrss, code);
    return 0;
}
C
musl-gcc -static -Os -o "$work/measure" "$work/measure.c" || die "could not build the measuring launcher"
mkdir "$work/bin"
ln -s "$bin" "$work/bin/codefresh" # the drop-in name, as a Codefresh step would call it

request_count() { pyrun requests "$1" | wc -l; }

# measure NAME EXPECTED_EXIT ENV... -- ARGV...: one run of ARGV with only ENV (and PATH) set,
# its "wall_ms cpu_ms peak_rss_kb" appended to $work/NAME.tsv, its output kept in
# $work/NAME.out and .err. When it does not exit as expected: returns 1 and leaves the reason
# in $work/NAME.why.
measure() {
    local name=$1 expected=$2 envs=("PATH=$PATH")
    shift 2
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    local row code
    row=$(env -i "${envs[@]}" "$work/measure" "$work/$name.out" "$work/$name.err" "$@" 2>&1) ||
        { echo "could not start $1: $row" >"$work/$name.why"; return 1; }
    code=${row##* }
    if [ "$code" != "$expected" ]; then
        echo "exit $code (expected $expected): $(tail -n1 "$work/$name.err" | cut -c1-160)" >"$work/$name.why"
        return 1
    fi
    echo "${row% *}" >>"$work/$name.tsv"
}
why() { cat "$work/$1.why"; }
col() { pyrun median "$work/$1.tsv" | cut -d' ' -f"$2"; } # NAME COLUMN(1 wall ms, 2 cpu ms, 3 rss KB)
fmt_ms() { awk -v v="$1" 'BEGIN { if (v < 10) printf "%.1f ms", v; else if (v < 10000) printf "%.0f ms", v; else printf "%.1f s", v / 1000 }'; }
fmt_kb() { awk -v v="$1" 'BEGIN { printf "%.1f MiB", v / 1024 }'; }
fmt_bytes() { awk -v v="$1" 'BEGIN { printf "%.2f MiB (%d bytes)", v / 1048576, v }'; }

# ---------------------------------------------------------------------------------------------
echo "--- the official Codefresh CLI $cf_cli_version" >&2
peer_dir=$PWD/target/bench/codefresh-cli
peer=$peer_dir/node_modules/.bin/codefresh
peer_why=""
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    peer_why="node and npm are not installed"
else
    manifest=$(printf '{"name":"cirelay-bench-peer","private":true,"dependencies":{"codefresh":"%s"},"overrides":{"firebase":"2.4.2"}}\n' "$cf_cli_version")
    mkdir -p "$peer_dir"
    if [ ! -x "$peer" ] || [ "$(cat "$peer_dir/package.json" 2>/dev/null)" != "$manifest" ]; then
        # The git-hosted `firebase` dependency is replaced with the registry's release, and
        # no install script runs (one downloads more at install time).
        echo "$manifest" >"$peer_dir/package.json"
        rm -rf "$peer_dir/node_modules" "$peer_dir/package-lock.json"
        if ! (cd "$peer_dir" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error) >"$work/npm.log" 2>&1; then
            reason=$(grep -v -e '^npm warn' -e '^npm error code' -e 'complete log' "$work/npm.log" | head -n1)
            peer_why="npm install failed: $(echo "${reason#npm error }" | cut -c1-120)"
        fi
    fi
    if [ -z "$peer_why" ]; then
        mkdir -p "$work/home-check"
        if ! got=$(HOME=$work/home-check "$peer" version 2>&1) || [[ $got != *"$cf_cli_version"* ]]; then
            peer_why="\`codefresh version\` failed: $(echo "$got" | tail -n1 | cut -c1-120)"
        fi
    fi
fi
if [ -n "$peer_why" ]; then
    note "the Codefresh CLI is not measured: $peer_why"
    node_version=""
else
    node_version=$(node --version)
fi

# ---------------------------------------------------------------------------------------------
echo "--- size and start-up, $runs runs" >&2
size=$(stat -c %s "$bin")
gz=$(gzip -9 -c "$bin" | wc -c)
peer_startup_why=$peer_why
for i in $(seq "$runs"); do
    measure startup 0 -- "$bin" --version || die "cirelay --version: $(why startup)"
    [[ $(cat "$work/startup.out") == "cirelay "* ]] || die "cirelay --version printed '$(cat "$work/startup.out")'"
    if [ -z "$peer_startup_why" ]; then
        mkdir "$work/home-version-$i"
        measure peer-startup 0 "HOME=$work/home-version-$i" -- "$peer" version || peer_startup_why=$(why peer-startup)
    fi
done

# ---------------------------------------------------------------------------------------------
echo "--- codefresh run pipeB -d, $runs runs each, alternating" >&2
start_fake codefresh
cf_url=$fake_url
peer_run_why=$peer_why
for i in $(seq "$runs"); do
    before=$(request_count "$cf_url")
    measure run 0 "CF_API_KEY=$cf_key" "CF_URL=$cf_url" -- "$work/bin/codefresh" run pipeB -d ||
        die "cirelay's codefresh run -d: $(why run)"
    [[ $(cat "$work/run.out") =~ ^[0-9a-f]{24}$ ]] || die "cirelay's codefresh run -d printed '$(cat "$work/run.out")', not a build id"
    echo $(($(request_count "$cf_url") - before)) >>"$work/run.requests"

    [ -z "$peer_run_why" ] || continue
    # A fresh HOME each time, as in a new CI container: the CLI writes its config there.
    mkdir "$work/home-run-$i"
    before=$(request_count "$cf_url")
    if ! measure peer-run 0 "HOME=$work/home-run-$i" "CF_API_KEY=$cf_key" "CF_URL=$cf_url" -- "$peer" run pipeB -d; then
        peer_run_why=$(why peer-run)
    elif ! [[ $(cat "$work/peer-run.out") =~ ^[0-9a-f]{24}$ ]]; then
        peer_run_why="it printed '$(head -c 100 "$work/peer-run.out")', not a build id"
    else
        echo $(($(request_count "$cf_url") - before)) >>"$work/peer-run.requests"
        # What it sent, without the random reqId it adds to the run request.
        pyrun requests "$cf_url" | tail -n +$((before + 1)) | sed 's/?reqId=[^ ]*$//' >"$work/peer-run.lines"
    fi
done
stop_fake
[ "$(sort -u "$work/run.requests" | wc -l)" = 1 ] ||
    die "cirelay sent different numbers of requests in different runs: $(tr '\n' ' ' <"$work/run.requests")"
run_requests=$(head -n1 "$work/run.requests")
if [ -z "$peer_run_why" ]; then
    [ "$(sort -u "$work/peer-run.requests" | wc -l)" = 1 ] ||
        note "the Codefresh CLI sent different numbers of requests in different runs: $(tr '\n' ' ' <"$work/peer-run.requests")"
    peer_run_requests=$(sort -n "$work/peer-run.requests" | sed -n "$(((runs + 1) / 2))p")
fi
if [ -z "$peer_why" ]; then
    peer_size=$(du -sb "$peer_dir/node_modules" | cut -f1)
    peer_packages=$(find "$peer_dir/node_modules" -name package.json |
        grep -Ec '/node_modules/(@[^/]+/)?[^/@]+/package\.json$')
    node_size=$(stat -L -c %s "$(command -v node)")
fi

# ---------------------------------------------------------------------------------------------
wait_why=""
peer_wait_why=$peer_why
if [ "$quick" = 1 ]; then
    wait_why="skipped: --quick"
    peer_wait_why=$wait_why
else
    echo "--- a 60-second wait on a build that keeps running, both tools at once" >&2
    # One fake each; new builds stay `pending` for 10 minutes.
    FAKE_CI_HOLD_SECONDS=600 start_fake codefresh
    wait_url=$fake_url
    FAKE_CI_HOLD_SECONDS=600 start_fake codefresh
    peer_wait_url=$fake_url
    wait_id=$(CF_API_KEY=$cf_key CF_URL=$wait_url "$bin" codefresh run pipeB -d 2>/dev/null) ||
        die "could not start a build to wait for"
    CF_API_KEY=$cf_key CF_URL=$peer_wait_url "$bin" codefresh run pipeB -d >/dev/null 2>&1 ||
        die "could not start a build to wait for"
    wait_before=$(request_count "$wait_url")
    peer_wait_before=$(request_count "$peer_wait_url")
    if [ -z "$peer_wait_why" ]; then
        mkdir "$work/home-wait"
        # Its timeout counts minutes; it gives up with exit 1 ("Operation has timed out").
        measure peer-wait 1 "HOME=$work/home-wait" "CF_API_KEY=$cf_key" "CF_URL=$peer_wait_url" -- \
            "$peer" wait "$wait_id" -t 1 &
        peer_wait_pid=$!
    fi
    # The default interval (5s, growing), as a CI step would run it; gives up with exit 3.
    measure wait 3 "CF_API_KEY=$cf_key" "CF_URL=$wait_url" -- "$work/bin/codefresh" wait "$wait_id" --timeout 60s ||
        die "cirelay's codefresh wait: $(why wait)"
    wait_requests=$(($(request_count "$wait_url") - wait_before))
    if [ -z "$peer_wait_why" ]; then
        if ! wait "$peer_wait_pid"; then
            peer_wait_why=$(why peer-wait)
        elif ! grep -q "timed out" "$work/peer-wait.err"; then
            peer_wait_why="it did not time out: $(tail -n1 "$work/peer-wait.err" | cut -c1-120)"
        else
            peer_wait_requests=$(($(request_count "$peer_wait_url") - peer_wait_before))
        fi
    fi
fi

# ---------------------------------------------------------------------------------------------
log_mb=${BENCH_LOG_MB:-20}
[[ $log_mb =~ ^[1-9][0-9]*$ ]] || die "BENCH_LOG_MB must be a positive number, got '$log_mb'"
echo "--- following a build that writes $log_mb MB of log" >&2
# The build runs 5 s while its engine writes the log (1 KiB lines, every 100th marked with the
# time it was written); cirelay follows it live, as `codefresh run` does, and its stderr
# goes through a FIFO to a reader that notes when each marked line arrives.
FAKE_CI_LOG_SECONDS=5 start_fake codefresh-log "$log_mb"
log_url=$fake_url
for _ in $(seq 100); do [ -n "$(sed -n 2p "$fake_out")" ] && break; sleep 0.05; done
log_db_url=$(sed -n 2p "$fake_out")
mkfifo "$work/follow.fifo"
pyrun delays "$work/follow.fifo" "$work/follow.err" >"$work/follow.delays" &
reader=$!
keep_pid "$reader"
row=$(env -i "PATH=$PATH" "CF_API_KEY=$cf_key" "CF_URL=$log_url" CIRELAY_INTERVAL=1s \
    "$work/measure" "$work/follow.out" "$work/follow.fifo" "$work/bin/codefresh" run pipeB) ||
    die "could not follow the log: $row"
wait "$reader" || die "the log reader failed"
[ "${row##* }" = 0 ] || die "cirelay's codefresh run exited ${row##* }: $(tail -n1 "$work/follow.err" | cut -c1-160)"
read -r follow_wall follow_cpu follow_rss _ <<<"$row"
read -r follow_lines follow_marks delay_median delay_p95 delay_max <"$work/follow.delays"
follow_printed=$(grep -c '^  \(line\|mark\) ' "$work/follow.err" || true)
[ "$follow_printed" = $((log_mb * 1024)) ] ||
    die "cirelay printed $follow_printed of the $((log_mb * 1024)) log lines"
log_db_requests=$(request_count "$log_db_url")
stop_fake
follow_cpu_per_mb=$(awk -v c="$follow_cpu" -v m="$log_mb" 'BEGIN { printf "%.1f", c / m }')
# The Codefresh CLI follows a log through Firebase's own client library, which speaks
# Firebase's websocket protocol; the fake database serves the REST API only.
peer_follow_why="the Codefresh CLI reads a live log over Firebase's websocket protocol, which the fake log database does not serve"

# ---------------------------------------------------------------------------------------------
echo "--- requests per operation" >&2
# Each operation runs against a new fake in a known state. The fakes move a build one status
# per read, so the counts of the waiting commands are exact at any interval.
# label | goal | fake | final status | exit | setup args (or -) | args
ops() {
    cat <<OPS
codeship restart-latest (v1)|2|codeship-v1|success|0|-|codeship restart-latest
codeship restart-latest --wait (v1): initiated, testing, success|-|codeship-v1|success|0|-|codeship restart-latest --wait
codeship restart-latest (v2)|-|codeship-v2|success|0|-|codeship restart-latest
codeship trigger --detach (v2)|-|codeship-v2|success|0|-|codeship trigger --branch master --detach
codeship trigger (v2): initiated, testing, success|-|codeship-v2|success|0|-|codeship trigger --branch master
codeship status (v2)|-|codeship-v2|success|1|-|codeship status $v2_pro_master
codeship wait (v2): testing, testing, success|-|codeship-v2|success|0|-|codeship wait $v2_pro_hotfix
codeship stop (v2)|-|codeship-v2|success|0|-|codeship stop $v2_pro_hotfix
codefresh run -d|1|codefresh|success|0|-|codefresh run pipeB -d
codefresh run: pending, running, success|-|codefresh|success|0|-|codefresh run pipeB
codefresh status|-|codefresh|success|1|-|codefresh status $cf_newest_main
codefresh wait (already finished)|-|codefresh|success|0|-|codefresh wait $cf_newest_any
codefresh terminate|-|codefresh|success|0|codefresh run pipeB -d|codefresh terminate $cf_first_new
codefresh restart-latest|-|codefresh|success|0|-|codefresh restart-latest proj/deploy -b main
circleci trigger --detach|1|circleci|-|0|-|circleci trigger gh/acme/app --branch main --detach
circleci trigger: setup, 2 workflows|-|circleci|-|0|-|circleci trigger gh/acme/app --branch main
circleci status|-|circleci|-|1|-|circleci status $circle_main_newest
circleci wait (already finished)|-|circleci|-|1|-|circleci wait $circle_main_newest
circleci cancel|-|circleci|-|0|-|circleci cancel $circle_busy
circleci restart-latest|-|circleci|-|0|-|circleci restart-latest gh/acme/app --branch main
github trigger --detach|1|github|-|0|-|github trigger acme/deploy deploy.yml --ref main --detach
github trigger --detach, a server refusing return_run_details|-|github|ghes|0|-|github trigger acme/deploy deploy.yml --ref main --detach
github trigger: queued, in_progress, success|-|github|-|0|-|github trigger acme/deploy deploy.yml --ref main
github status|1|github|-|1|-|github status acme/deploy/$gh_newest
github cancel|1|github|-|0|-|github cancel acme/deploy/$gh_busy
github restart-latest|2|github|-|0|-|github restart-latest acme/deploy ci.yml --branch main
github restart-latest --wait: the old attempt once, then the new one|-|github|-|0|-|github restart-latest acme/deploy ci.yml --branch main --wait
gitlab trigger --detach|1|gitlab|success|0|-|gitlab trigger acme/app --ref main --detach
gitlab trigger: created, pending, running, success|-|gitlab|success|0|-|gitlab trigger acme/app --ref main
gitlab trigger, failed: the failed job's trace|-|gitlab|failed|1|-|gitlab trigger acme/app --ref main
gitlab status|-|gitlab|success|1|-|gitlab status acme/app/1003
gitlab wait (already finished)|-|gitlab|success|0|-|gitlab wait acme/app/1004
gitlab cancel|-|gitlab|success|0|gitlab trigger acme/app --ref main --detach|gitlab cancel acme/app/2001
gitlab restart-latest|-|gitlab|success|0|-|gitlab restart-latest acme/app --branch main
gitlab builds|-|gitlab|success|0|-|gitlab builds acme/app
OPS
}
op_env() { # FAKE URL: one variable a line
    case $1 in
        codeship-v1) printf '%s\n' "CODESHIP_API_KEY=$v1_key" CODESHIP_API_PROJECT_ID=12345 CODESHIP_API_BRANCH=main "CODESHIP_API_URL=$2" ;;
        codeship-v2) printf '%s\n' "CODESHIP_API_USER=$v2_user" "CODESHIP_API_PASSWORD=$v2_password" CODESHIP_API_ORG=Acme \
            "CODESHIP_API_PROJECT_UUID=$v2_pro" CODESHIP_API_BRANCH=master "CODESHIP_API_URL=$2" ;;
        codefresh) printf '%s\n' "CF_API_KEY=$cf_key" "CF_URL=$2" ;;
        circleci) printf '%s\n' "CIRCLE_TOKEN=$circle_token" "CIRCLECI_HOST=$2" ;;
        github) printf '%s\n' "GITHUB_TOKEN=$gh_token" "GITHUB_API_URL=$2" ;;
        gitlab) printf '%s\n' "GITLAB_TOKEN=$gitlab_token" "GITLAB_API_URL=$2/api/v4" ;;
    esac
}
: >"$work/ops"
while IFS='|' read -r label goal fake final expected setup args; do
    if [ "$final" = - ]; then start_fake "$fake"; else start_fake "$fake" "$final"; fi
    mapfile -t envs < <(op_env "$fake" "$fake_url")
    if [ "$setup" != - ]; then
        # shellcheck disable=SC2086 # the setup's words
        env -i PATH="$PATH" "${envs[@]}" "$bin" $setup >/dev/null 2>"$work/op.err" ||
            die "$label: the setup \`cirelay $setup\` failed: $(tail -n1 "$work/op.err")"
    fi
    before=$(request_count "$fake_url")
    set +e
    # shellcheck disable=SC2086 # the operation's words
    env -i PATH="$PATH" "${envs[@]}" CIRELAY_INTERVAL=10ms "$bin" $args >/dev/null 2>"$work/op.err"
    code=$?
    set -e
    [ "$code" = "$expected" ] || die "$label: \`cirelay $args\` exited $code, expected $expected: $(tail -n1 "$work/op.err")"
    pyrun requests "$fake_url" | tail -n +$((before + 1)) >"$work/op.lines"
    n=$(wc -l <"$work/op.lines")
    { echo "cirelay $args  # $label"; sed "s/^/    /" "$work/op.lines"; } >>"$work/requests.txt"
    stop_fake
    echo "$label|$goal|$n" >>"$work/ops"
done < <(ops)

# ---------------------------------------------------------------------------------------------
echo "--- GitHub: from command to run id, $runs runs each, alternating" >&2
# One fake that lists a new run $gh_list_delay s after its dispatch, and one that also refuses
# return_run_details (GitHub Enterprise Server before it), where cirelay falls back to listing.
FAKE_CI_LIST_DELAY_SECONDS=$gh_list_delay start_fake github
gh_url=$fake_url
FAKE_CI_LIST_DELAY_SECONDS=$gh_list_delay start_fake github ghes
ghes_url=$fake_url
for _ in $(seq "$runs"); do
    before=$(request_count "$gh_url")
    measure gh-trigger 0 "GITHUB_TOKEN=$gh_token" "GITHUB_API_URL=$gh_url" -- \
        "$bin" github trigger acme/deploy deploy.yml --ref main --detach || die "cirelay github trigger --detach: $(why gh-trigger)"
    [[ $(cat "$work/gh-trigger.out") =~ ^acme/deploy/[0-9]+$ ]] || die "cirelay github trigger printed '$(cat "$work/gh-trigger.out")'"
    echo $(($(request_count "$gh_url") - before)) >>"$work/gh-trigger.requests"

    polled=$(pyrun dispatch-then-poll "$gh_url" "$gh_token" "$gh_poll") || die "the dispatch-then-poll approach failed"
    echo "$polled" | cut -d' ' -f1 >>"$work/gh-poll.tsv"
    echo "$polled" | cut -d' ' -f2 >>"$work/gh-poll.requests"

    before=$(request_count "$ghes_url")
    measure gh-ghes 0 "GITHUB_TOKEN=$gh_token" "GITHUB_API_URL=$ghes_url" -- \
        "$bin" github trigger acme/deploy deploy.yml --ref main --detach || die "cirelay github trigger against a server without run details: $(why gh-ghes)"
    echo $(($(request_count "$ghes_url") - before)) >>"$work/gh-ghes.requests"
done
stop_fake
stop_fake
median_of() { sort -n "$work/$1" | sed -n "$(((runs + 1) / 2))p"; }

# =============================================================================================
# Waiting on builds: many at once (`cirelay wait REF…`), and polls planned around a build's
# usual end against the growing schedule. Everything of this part is in this block: its runs,
# its tables ($work/waiting.md) and its own marked block in BENCHMARKS.md
# (<!-- bench:waiting:begin --> … <!-- bench:waiting:end -->). --quick skips its runs in real
# time and keeps the simulation.

# How long each build of the many-builds runs (fake-ci's FAKE_CI_BUILD_SECONDS), and the
# history of its planned waits.
waiting_lasts=${BENCH_WAIT_SECONDS:-20}
waiting_history=$((waiting_lasts - 1)),$waiting_lasts,$((waiting_lasts + 1))
# The real run that checks the simulation: builds this long, history around it.
planned_lasts=60
planned_history=58,59,60,61,62
waiting_providers=(codefresh github gitlab)

# start_detached PROVIDER URL: starts a build of the fake's start pipeline on main without
# waiting; prints the id cirelay printed.
start_detached() {
    local envs args
    mapfile -t envs < <(op_env "$1" "$2")
    case $1 in
        codefresh) args=(codefresh run pipeB -b main -d) ;;
        github) args=(github trigger acme/deploy deploy.yml --ref main --detach) ;;
        gitlab) args=(gitlab trigger acme/app --ref main --detach) ;;
    esac
    env -i PATH="$PATH" "${envs[@]}" "$bin" "${args[@]}" 2>>"$work/start-detached.err" ||
        die "could not start a $1 build: $(tail -n1 "$work/start-detached.err")"
}

# waiting_fakes NAME LASTS HISTORY: one fake per provider whose new builds run LASTS seconds,
# with HISTORY (durations, or - for none) on main; sets NAME_urls and NAME_pids (by provider).
waiting_fakes() {
    local name=$1 lasts=$2 history=$3 provider
    declare -gA "${name}_urls=()" "${name}_pids=()"
    for provider in "${waiting_providers[@]}"; do
        if [ "$history" = - ]; then
            FAKE_CI_BUILD_SECONDS=$lasts start_fake "$provider"
        else
            FAKE_CI_BUILD_SECONDS=$lasts FAKE_CI_HISTORY_SECONDS=$history start_fake "$provider"
        fi
        eval "${name}_urls[$provider]=\$fake_url; ${name}_pids[$provider]=\${fake_pids[-1]}"
    done
}
waiting_stop() { # NAME: stops its fakes
    local -n pids="$1_pids"
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
}
waiting_requests() { # NAME: the requests its fakes received so far
    local -n urls="$1_urls"
    local n=0 url
    for url in "${urls[@]}"; do n=$((n + $(request_count "$url"))); done
    echo "$n"
}
waiting_env() { # NAME: every provider's variables for its fakes, one a line
    local -n urls="$1_urls"
    local provider
    for provider in "${waiting_providers[@]}"; do op_env "$provider" "${urls[$provider]}"; done
}

# (a) `cirelay wait REF…` on N builds, round-robin over the providers, every build running
# $waiting_lasts s: with each provider's history on main (planned) and without (growing), the
# two waits at once against fakes of their own. One run each: a row takes the builds' length.
wait_many() { # N: appends "N growing_wall_ms growing_requests planned_wall_ms planned_requests"
    local n=$1 kind k provider refs envs before history
    declare -A sent=()
    for kind in growing planned; do
        if [ "$kind" = growing ]; then history=-; else history=$waiting_history; fi
        waiting_fakes "many_$kind" "$waiting_lasts" "$history"
    done
    for kind in growing planned; do
        local -n urls="many_${kind}_urls"
        refs=()
        for k in $(seq 0 $((n - 1))); do
            provider=${waiting_providers[k % ${#waiting_providers[@]}]}
            refs+=("$provider:$(start_detached "$provider" "${urls[$provider]}")")
        done
        mapfile -t envs < <(waiting_env "many_$kind")
        # The builds' polls only: a followed Codefresh log reads on its own.
        envs+=(CIRELAY_LOGS=none)
        before=$(waiting_requests "many_$kind")
        echo "$before" >"$work/many-$kind.before"
        rm -f "$work/many-$n-$kind.tsv"
        measure "many-$n-$kind" 0 "${envs[@]}" -- "$bin" wait "${refs[@]}" &
        eval "many_${kind}_wait=\$!"
        unset -n urls
    done
    # shellcheck disable=SC2154 # set by the eval above
    wait "$many_growing_wait" || die "cirelay wait on $n builds (growing): $(why "many-$n-growing")"
    # shellcheck disable=SC2154
    wait "$many_planned_wait" || die "cirelay wait on $n builds (planned): $(why "many-$n-planned")"
    for kind in growing planned; do
        sent[$kind]=$(($(waiting_requests "many_$kind") - $(cat "$work/many-$kind.before")))
        waiting_stop "many_$kind"
    done
    echo "$n $(col "many-$n-growing" 1) ${sent[growing]} $(col "many-$n-planned" 1) ${sent[planned]}" >>"$work/many.rows"
}

# (b) One real $planned_lasts-second build per provider at the default interval, the growing
# schedule (no history) and the planned one (history around $planned_lasts s), all six at
# once: the notice delay is the wait's end minus the build's (its start plus its length).
planned_real() {
    local kind provider envs id began t0
    waiting_fakes real_growing "$planned_lasts" -
    waiting_fakes real_planned "$planned_lasts" "$planned_history"
    local pids=()
    for kind in growing planned; do
        local -n urls="real_${kind}_urls"
        for provider in "${waiting_providers[@]}"; do
            mapfile -t envs < <(op_env "$provider" "${urls[$provider]}")
            envs+=(CIRELAY_LOGS=none)
            began=$(date +%s.%N)
            id=$(start_detached "$provider" "${urls[$provider]}")
            (
                before=$(request_count "${urls[$provider]}")
                rm -f "$work/real-$kind-$provider.tsv"
                t0=$(date +%s.%N)
                measure "real-$kind-$provider" 0 "${envs[@]}" -- "$bin" "$provider" wait "$id" ||
                    { echo "fail $(why "real-$kind-$provider")" >"$work/real-$kind-$provider.row"; exit; }
                wall=$(col "real-$kind-$provider" 1)
                delay=$(awk -v b="$began" -v t="$t0" -v w="$wall" -v d="$planned_lasts" 'BEGIN { printf "%.2f", t + w / 1000 - b - d }')
                echo "$(($(request_count "${urls[$provider]}") - before)) $delay" >"$work/real-$kind-$provider.row"
            ) &
            pids+=($!)
        done
        unset -n urls
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
    waiting_stop real_growing
    waiting_stop real_planned
}

echo "--- waiting: the planned schedule replayed (fake-ci schedule 1 5 30)" >&2
"$fake_bin" schedule 1 5 30 >"$work/schedule.rows" || die "fake-ci schedule failed"
waiting_why=""
if [ "$quick" = 1 ]; then
    waiting_why="skipped: --quick"
else
    : >"$work/many.rows"
    for n in 1 10 50; do
        echo "--- waiting: cirelay wait on $n builds of ${waiting_lasts} s, growing and planned at once" >&2
        wait_many "$n"
    done
    echo "--- waiting: real ${planned_lasts}-second builds, growing and planned, all providers at once" >&2
    planned_real
fi

{
    echo "The planned schedule replayed: \`fake-ci schedule 1 5 30\` runs cirelay's own polling schedule"
    echo "(\`cirelay::wait::replay\`, the code \`wait\` runs, on a clock of its own) at the default"
    echo "interval (5 s) for builds whose history says they take 1, 5 or 30 minutes. The build's"
    echo "start time reads 0.0 to 0.9 s early (providers write whole seconds); medians and worst"
    echo "cases over those ten. Requests include the one history read of the planned schedule."
    echo
    echo "| history says | the build takes | growing: requests | growing: notice delay | planned: requests | planned: notice delay (median, worst) |"
    echo "|---|---|---|---|---|---|"
    while IFS=$'\t' read -r minutes case g_req g_delay p_req p_req_max p_delay p_delay_max; do
        reqs=$p_req
        [ "$p_req" = "$p_req_max" ] || reqs="$p_req (at most $p_req_max)"
        echo "| $minutes min | $case | $g_req | ${g_delay} s | $reqs | ${p_delay} s, ${p_delay_max} s |"
    done <"$work/schedule.rows"
    echo
    if [ -n "$waiting_why" ]; then
        echo "Real runs: not measured ($waiting_why)."
    else
        echo "One real run of each: a ${planned_lasts}-second build per provider against fake-ci"
        echo "(\`FAKE_CI_BUILD_SECONDS=$planned_lasts\`), followed by \`cirelay PROVIDER wait ID\` at the default"
        echo "interval, without history (growing) and with five earlier builds of ${planned_history//,/, } s"
        echo "on the branch (planned), all six at once, with \`CIRELAY_LOGS=none\` (the build's polls only)."
        echo "Notice delay: the wait's end minus the build's."
        echo
        echo "| | growing: requests | growing: notice delay | planned: requests | planned: notice delay |"
        echo "|---|---|---|---|---|"
        sim_growing=$(awk -F'\t' '$1 == 1 && $2 == "on its usual time" { print $3 " | " $4 " s" }' "$work/schedule.rows")
        sim_planned=$(awk -F'\t' '$1 == 1 && $2 == "on its usual time" { print $5 " | " $7 " s (median)" }' "$work/schedule.rows")
        echo "| the replay above, 1 min on its usual time | $sim_growing | $sim_planned |"
        for provider in "${waiting_providers[@]}"; do
            row="| \`$provider wait\`"
            for kind in growing planned; do
                read -r a b <"$work/real-$kind-$provider.row"
                if [ "$a" = fail ]; then row+=" | not measured ($b) | "; else row+=" | $a | $b s"; fi
            done
            echo "$row |"
        done
        echo
        echo "\`cirelay wait REF…\` on builds of Codefresh, GitHub and GitLab in turn, each running"
        echo "${waiting_lasts} s against fake-ci, at the default interval; growing (no history) and planned"
        echo "(a history of ${waiting_history//,/, } s on the branch) at once, one run each, \`CIRELAY_LOGS=none\`."
        echo "Wall: from the wait's start, while the builds had started a moment before (one by one)."
        echo
        echo "| builds | growing: wall | growing: requests | planned: wall | planned: requests |"
        echo "|---|---|---|---|---|"
        while read -r n g_wall g_req p_wall p_req; do
            echo "| $n | $(fmt_ms "$g_wall") | $g_req | $(fmt_ms "$p_wall") | $p_req |"
        done <"$work/many.rows"
    fi
} >"$work/waiting.md"

# ---------------------------------------------------------------------------------------------
# The tables, in Markdown.
cell() { # NAME COLUMN WHY: the median of a column (1 wall, 2 CPU, 3 peak RSS), or why there is none
    if [ -n "$3" ]; then
        echo "not measured ($3)"
    elif [ "$2" = 3 ]; then
        fmt_kb "$(col "$1" 3)"
    else
        fmt_ms "$(col "$1" "$2")"
    fi
}
or_why() { if [ -n "$1" ]; then echo "not measured ($1)"; else echo "$2"; fi; } # WHY VALUE

{
    cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n1)
    echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores (${cpu_model:+$cpu_model, }$(uname -sm)): \
cirelay $(cut -d' ' -f2 "$work/startup.out"), Codefresh CLI $cf_cli_version${node_version:+ on Node $node_version}; \
medians of $runs runs unless noted."
    echo
    echo "| | cirelay | Codefresh CLI $cf_cli_version |"
    echo "|---|---|---|"
    echo "| installed size | $(fmt_bytes "$size"), one static file | $(or_why "$peer_why" \
        "$(fmt_bytes "${peer_size:-0}") in node_modules (${peer_packages:-0} packages), plus Node itself: $(fmt_bytes "${node_size:-0}")") |"
    echo "| gzip -9 size (the scratch image's payload) | $(fmt_bytes "$gz") | |"
    echo "| start-up (\`cirelay --version\` / \`codefresh version\`): wall | $(cell startup 1 "") | $(cell peer-startup 1 "$peer_startup_why") |"
    echo "| start-up: peak RSS | $(cell startup 3 "") | $(cell peer-startup 3 "$peer_startup_why") |"
    echo "| \`codefresh run pipeB -d\`: wall | $(cell run 1 "") | $(cell peer-run 1 "$peer_run_why") |"
    echo "| \`codefresh run pipeB -d\`: CPU (user + sys) | $(cell run 2 "") | $(cell peer-run 2 "$peer_run_why") |"
    echo "| \`codefresh run pipeB -d\`: peak RSS | $(cell run 3 "") | $(cell peer-run 3 "$peer_run_why") |"
    peer_lines=""
    [ -n "$peer_run_why" ] || peer_lines=": $(paste -sd, "$work/peer-run.lines" | sed 's/,/, /g')"
    echo "| \`codefresh run pipeB -d\`: HTTP requests | $run_requests | $(or_why "$peer_run_why" "${peer_run_requests:-}$peer_lines") |"
    if [ -n "$wait_why" ]; then
        echo "| 60-second wait | not measured ($wait_why) | not measured ($wait_why) |"
    else
        echo "| 60-second wait (\`codefresh wait ID --timeout 60s\` / \`-t 1\`), one run: wall | $(cell wait 1 "") | $(cell peer-wait 1 "$peer_wait_why") |"
        echo "| 60-second wait: CPU (user + sys) | $(cell wait 2 "") | $(cell peer-wait 2 "$peer_wait_why") |"
        echo "| 60-second wait: peak RSS | $(cell wait 3 "") | $(cell peer-wait 3 "$peer_wait_why") |"
        echo "| 60-second wait: HTTP requests | $wait_requests | $(or_why "$peer_wait_why" "${peer_wait_requests:-}") |"
    fi
    echo "| following a build that writes $log_mb MB of log (\`codefresh run pipeB\`), one run: CPU (user + sys) | $(fmt_ms "$follow_cpu"), $follow_cpu_per_mb ms per MB | not measured ($peer_follow_why) |"
    echo "| following $log_mb MB: peak RSS | $(fmt_kb "$follow_rss") | |"
    echo "| following $log_mb MB: from a line written at the fake to printed (median / p95 / max of $follow_marks lines) | $delay_median / $delay_p95 / $delay_max ms | |"
    echo "| following $log_mb MB: lines printed; requests to the log database | $follow_printed of $((log_mb * 1024)) (stderr had $follow_lines lines); $log_db_requests | |"
    echo "| following $log_mb MB: wall (the build runs 5 s, then ends at the next poll) | $(fmt_ms "$follow_wall") | |"
    echo
    echo "GitHub: from the command to the run's id, the fake listing a new run ${gh_list_delay} s after its dispatch"
    echo "(medians of $runs runs):"
    echo
    echo "| | wall | HTTP requests |"
    echo "|---|---|---|"
    echo "| cirelay \`github trigger … --detach\` (the dispatch names its run) | $(cell gh-trigger 1 "") | $(median_of gh-trigger.requests) |"
    echo "| dispatch, then list the runs every ${gh_poll} s until a new one shows up | $(fmt_ms "$(pyrun median "$work/gh-poll.tsv")") | $(median_of gh-poll.requests) |"
    echo "| cirelay against a server refusing return_run_details (dispatch again, list twice an interval apart) | $(cell gh-ghes 1 "") | $(median_of gh-ghes.requests) |"
    echo
    echo "| cirelay command (against the fake) | HTTP requests | goal |"
    echo "|---|---|---|"
    while IFS='|' read -r label goal n; do
        if [ "$goal" = - ]; then
            mark=""
        elif [ "$n" -le "$goal" ]; then
            mark="$goal: met"
        else
            mark="$goal: **missed**"
        fi
        echo "| $label | $n | $mark |"
    done <"$work/ops"
} >"$work/table.md"

echo
cat "$work/table.md"
mkdir -p target/bench
cp "$work/table.md" target/bench/results.md
cp "$work/requests.txt" target/bench/requests.txt
note "each command's requests: target/bench/requests.txt"
if [ "$quick" != 1 ] && grep -qx '<!-- bench:begin -->' BENCHMARKS.md 2>/dev/null; then
    # The marked block of BENCHMARKS.md gets the new tables; the text around them stays.
    python3 - "$work/table.md" <<'PY'
import re, sys
table = open(sys.argv[1]).read()
doc = open("BENCHMARKS.md").read()
doc = re.sub(r"(?s)(<!-- bench:begin -->\n).*?(<!-- bench:end -->)",
             lambda m: m.group(1) + table + m.group(2), doc)
open("BENCHMARKS.md", "w").write(doc)
PY
    note "the tables in BENCHMARKS.md are updated; check that its reading still fits them"
fi

# The waiting block's tables (see "Waiting on builds" above), in their own marked block.
cat "$work/waiting.md"
cp "$work/waiting.md" target/bench/waiting.md
if [ "$quick" != 1 ] && grep -qx '<!-- bench:waiting:begin -->' BENCHMARKS.md 2>/dev/null; then
    python3 - "$work/waiting.md" <<'PY'
import re, sys
table = open(sys.argv[1]).read()
doc = open("BENCHMARKS.md").read()
doc = re.sub(r"(?s)(<!-- bench:waiting:begin -->\n).*?(<!-- bench:waiting:end -->)",
             lambda m: m.group(1) + table + m.group(2), doc)
open("BENCHMARKS.md", "w").write(doc)
PY
    note "the waiting tables in BENCHMARKS.md are updated"
fi
