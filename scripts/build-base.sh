#!/usr/bin/env bash
# Builds maildiag as of a git ref into a directory, for `make bench
# BASE=<ref>`: the benchmarks then time that build beside this one, each
# figure of both in the same run.
set -euo pipefail
ref=$1
mkdir -p "$2"
out=$(cd "$2" && pwd)
cd "$(dirname "$0")/.."
tree=$(mktemp -d)
trap 'git worktree remove --force "$tree" >/dev/null 2>&1 || rm -rf "$tree"' EXIT
git worktree add --quiet --detach "$tree" "$ref"
# The chart library, where that build looks for it (it moved once).
for dir in report/assets report/assets/fetched-by-make-build; do
	mkdir -p "$tree/$dir"
	cp report/assets/fetched-by-make-build/echarts.min.js "$tree/$dir/"
done
(cd "$tree" && CGO_ENABLED=1 go build -ldflags='-s -w' -o "$out/maildiag" ./cmd/maildiag)
echo "build-base: $ref built into $out/maildiag"
