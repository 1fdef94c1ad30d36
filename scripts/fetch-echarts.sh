#!/usr/bin/env bash
# Fetches the pinned ECharts build that every HTML report inlines, from the
# npm registry, verifies it, and writes it to
# report/assets/fetched-by-make-build/echarts.min.js (git-ignored; the report
# package embeds it and does not compile without it). Idempotent: does
# nothing when the file is there with the pinned hash. Run by `make assets`,
# which `make build`, `make test` and `make lint` run first.
#
# To upgrade: change the three pins below (npm view echarts@X dist.integrity;
# the sha256 of package/dist/echarts.min.js in that tarball), and
# EChartsVersion / echartsSHA256 in report/assets.go to match; a test checks
# that the two agree.
set -euo pipefail

ECHARTS_VERSION=5.6.0
ECHARTS_INTEGRITY=sha512-oTbVTsXfKuEhxftHqL5xprgLoc0k7uScAwtryCgWF6hPYFLRwOUHiFmHGCBKP5NPFNkDVopOieyUqYGH8Fa3kA==
ECHARTS_MIN_SHA256=bf4a223524e40b77c304bec67e1222cf551f14880cf42c69dc046558e11c07b1

cd "$(dirname "$0")/.."
dest=report/assets/fetched-by-make-build/echarts.min.js

sha256() { sha256sum "$1" | cut -d' ' -f1; }

if [ -f "$dest" ] && [ "$(sha256 "$dest")" = "$ECHARTS_MIN_SHA256" ]; then
	exit 0
fi

command -v npm >/dev/null || { echo "fetch-echarts: npm not found (apt-get install -y npm)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# npm pack downloads the tarball only (no dependencies, no install scripts)
# and checks it against the registry's own integrity; we check it against ours.
(cd "$tmp" && npm pack "echarts@$ECHARTS_VERSION" --silent --ignore-scripts >/dev/null)
tgz="$tmp/echarts-$ECHARTS_VERSION.tgz"
# node comes with npm, so it is there to hash with.
got=$(node -e 'const c = require("crypto"), fs = require("fs");
process.stdout.write("sha512-" + c.createHash("sha512").update(fs.readFileSync(process.argv[1])).digest("base64"));' "$tgz")
if [ "$got" != "$ECHARTS_INTEGRITY" ]; then
	echo "fetch-echarts: echarts@$ECHARTS_VERSION tarball integrity $got, want $ECHARTS_INTEGRITY" >&2
	exit 1
fi

tar -xzf "$tgz" -C "$tmp" package/dist/echarts.min.js
got=$(sha256 "$tmp/package/dist/echarts.min.js")
if [ "$got" != "$ECHARTS_MIN_SHA256" ]; then
	echo "fetch-echarts: echarts.min.js sha256 $got, want $ECHARTS_MIN_SHA256" >&2
	exit 1
fi

mkdir -p "$(dirname "$dest")"
install -m 0644 "$tmp/package/dist/echarts.min.js" "$dest.tmp"
mv "$dest.tmp" "$dest"
echo "fetch-echarts: wrote $dest (ECharts $ECHARTS_VERSION)"
