#!/bin/sh
# Runs git-backup's benchmark and prints its table of ratios against plain git.
# Flags pass through to the program: -n 15, -json, -only list, -keep, -h.
set -e
cd "$(dirname "$0")/.."
exec go run ./test/bench "$@"
