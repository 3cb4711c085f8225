#!/usr/bin/env bash
# The main job end to end against the project's own fake CI on 127.0.0.1 (nothing leaves
# this machine): restart the latest build of a branch the way Codeship's
# `codeship_restart_build` does, wait for it, and show a failed downstream build failing
# the caller.
set -euo pipefail
cd "$(dirname "$0")/.."

# Not --quiet: a first build compiles the dependencies for about a minute, which should
# not look like a hang.
echo "--- building cirelay: cargo build --bin cirelay"
cargo build --bin cirelay
# shellcheck source=scripts/fake-ci.sh
. scripts/fake-ci.sh

# The multi-call name, as a Codeship Basic step would install it.
ln -s "$PWD/target/debug/cirelay" "$work/codeship_restart_build"

export CODESHIP_API_KEY=v1key-9f8e7d6c5b4a39281706 # the fake's key (tests/it/fakes/codeship_v1.rs)
export CODESHIP_API_PROJECT_ID=12345 CODESHIP_API_BRANCH=main CIRELAY_INTERVAL=300ms

echo
echo "--- 1. codeship_restart_build --wait: the restarted build passes"
start_fake codeship-v1 success
export CODESHIP_API_URL=$fake_url
id=$("$work/codeship_restart_build" --wait)
echo "    stdout carried the new build id: $id; exit code 0"

echo
echo "--- 2. the same with --verbose: every request, the API key redacted"
"$work/codeship_restart_build" --verbose >/dev/null

echo
echo "--- 3. the downstream build fails: so does this step"
start_fake codeship-v1 error
CODESHIP_API_URL=$fake_url
set +e
target/debug/cirelay codeship restart-latest --wait --output json
code=$?
set -e
echo "    exit code $code (1 = the downstream build failed)"
[ "$code" = 1 ]

echo
echo "demo finished: see README.md for the setup of Codeship, Codefresh, CircleCI, GitHub Actions and GitLab"
