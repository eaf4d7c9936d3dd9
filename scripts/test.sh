#!/usr/bin/env bash
# Run a test command the way CI does: every integration test required (a skip is a failure under
# LB_REQUIRE_ALL=1), then restate Deno's summary as one plain closing line ("76 passed, 0
# failed"). Exits with the test run's status.
#
# Usage: scripts/test.sh deno task test   (the README's test command; any other test command works too)
set -euo pipefail
cd "$(dirname "$0")/.."
export LB_REQUIRE_ALL="${LB_REQUIRE_ALL:-1}"

if (($# == 0)); then
  echo "usage: scripts/test.sh deno task test [arguments...]" >&2
  exit 2
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
# Deno's own summary reads "ok | 76 passed | 0 failed (18s)". A line that starts with "ok" reads
# as Go's per-package line to tools that parse test output, so it is relabelled "deno test: ok | ...".
"$@" 2>&1 | sed -u -E 's/^((\x1b\[[0-9;]*m)*(ok|FAILED)(\x1b\[[0-9;]*m)* \| )/deno test: \1/' | tee "$log" ||
  status=$?
# The last summary is the whole run's.
summary=$(sed -E 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^deno test: (ok|FAILED) \| [0-9]+ passed' | tail -1 || true)
passed=$(sed -E 's/.*\| ([0-9]+) passed.*/\1/' <<<"$summary")
failed=$(sed -E 's/.*\| ([0-9]+) failed.*/\1/' <<<"$summary")
echo "${passed:-0} passed, ${failed:-0} failed"
# A caller that runs more steps afterwards (.ci/run) restates the counts as its own last line.
if [[ -n "${LB_TEST_SUMMARY_FILE:-}" ]]; then
  echo "${passed:-0} ${failed:-0}" >"$LB_TEST_SUMMARY_FILE"
fi
exit "$status"
