#!/usr/bin/env bash
# The fault-injection suite, long variants included: 50 syncs each killed with SIGKILL at a
# random moment then a clean run; ten concurrent syncs against rotating refresh tokens; the
# database held by another writer; a full disk (tmpfs, needs root); 5xx, resets and slow
# answers at 20%; an unavailable keyring. CI runs the same tests with fewer kills.
set -euo pipefail
cd "$(dirname "$0")/.."
export INTEG_TEST_KILLS="${INTEG_TEST_KILLS:-50}"
exec cargo nextest run --no-fail-fast \
    -E 'test(killed_syncs_resume) | test(faults_end_with_the_same_data) | test(/^unattended::/) | test(ten_concurrent)'
