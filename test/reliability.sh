#!/usr/bin/env bash
# The full reliability suite: hundreds of SIGKILL crash trials, minutes of
# concurrency stress, the corruption cases, and every fuzz target for a
# longer time; then the table of its figures, for the README.
#
#   test/reliability.sh [fuzz time per target, default 60s]
#
# CI runs the same suites in a bounded form: `go test ./...` (crash trials,
# stress, corruption with small counts) and `test/fuzz.sh 5s`.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-60s}
report=$(mktemp)
trap 'rm -f "$report"' EXIT
export GIT_BACKUP_RELIABILITY=full GIT_BACKUP_RELIABILITY_REPORT=$report
start=$(date +%s)
go test -race -count=1 -timeout 3h ./...
test/fuzz.sh "$fuzztime"
secs=$(($(date +%s) - start))
echo
echo "Reliability run of $(date -u +%Y-%m-%d): $(nproc 2>/dev/null || echo '?') cores, $(go env GOVERSION), $(git --version | sed 's/^git version /git /'), ${secs}s in all"
echo
echo "| suite | what was tried | figures |"
echo "| --- | --- | --- |"
cat "$report"
