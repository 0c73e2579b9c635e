#!/usr/bin/env bash
# The no-account demo: run integ's main job against the local provider fakes (the same ones the
# tests use) on a machine with no account and no network: connect Jobber through the real
# loopback listener and redirect, sync its jobs, connect a Google calendar and sync its events,
# then show status, a few jobs and the week's events. The fakes' own `browse` command plays the
# browser.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet --bins
bin="$PWD/target/debug"
work="$(mktemp -d)"
fakes_pid=""
cleanup() {
    [ -n "$fakes_pid" ] && kill "$fakes_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# A private home with the encrypted file store, so the demo touches nothing of yours.
export INTEG_HOME="$work/home"
export INTEG_SECRET_STORE=file
export INTEG_SECRET_KEY="demo-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"

# 300 jobs; the cost bucket restores 20x faster than Jobber's so the demo takes seconds.
"$bin/integ-fakes" serve --port 0 --env-file "$work/fakes.env" \
    --jobber-seed-jobs 300 --jobber-restore-rate 10000 --google-seed-events 200 >"$work/fakes.out" &
fakes_pid=$!
for _ in $(seq 1 100); do [ -s "$work/fakes.env" ] && break; sleep 0.05; done
# shellcheck disable=SC1091
. "$work/fakes.env"

# The "browser": follows the fake's redirect to integ's loopback listener, like a real one.
export BROWSER="$bin/integ-fakes browse --out $work/page.html"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
step "$bin/integ" connect jobber
step "$bin/integ" sync jobs
step "$bin/integ" connect google
step "$bin/integ" sync events
step "$bin/integ" status
step "$bin/integ" jobs list --status upcoming
step "$bin/integ" jobs show "$("$bin/integ" jobs list --json | grep -m1 -o '"job_number": [0-9]*' | grep -o '[0-9]*$')"
step "$bin/integ" calendars list
step "$bin/integ" events list --from "$(date -u -d '-7 days' +%F)" --to "$(date -u -d '+7 days' +%F)" --tz America/Denver

echo
echo "The browser stand-in ended on integ's page: $(grep -o '<title>[^<]*</title>' "$work/page.html")"
