#!/usr/bin/env bash
# Runs a command (the tests) with TMPDIR pointed at a fresh, empty directory
# and fails if anything is left in it afterwards, listing what: a test must
# clean up after itself (t.TempDir, or a removal it defers). Exits with the
# command's status when that fails. Run by `make test`.
set -uo pipefail

dir=$(mktemp -d "${TMPDIR:-/tmp}/maildiag-tmpcheck.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT

TMPDIR=$dir "$@"
status=$?

left=$(cd "$dir" && find . -mindepth 1 -maxdepth 2 | sort)
if [ -n "$left" ]; then
	echo "no-leftovers: '$*' left these in TMPDIR:" >&2
	printf '%s\n' "$left" | sed 's|^\./|  |' >&2
	[ "$status" -ne 0 ] || status=1
fi
exit "$status"
