#!/usr/bin/env bash
# make demo: serve a generated account on loopback with the project's own
# Mailgun-compatible server, sync it into a fresh index over HTTP, run the
# analyses and write the report. No key, no internet.
set -euo pipefail

bin=${1:-bin}
dir=${2:-.demo}
events=${DEMO_EVENTS:-200000}
# DEMO_PROFILE=transactional: a sender whose every message goes to a new address.
profile=${DEMO_PROFILE:-marketing}
key="demo-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"

# The team server a previous demo left running serves the index removed here.
if [ -s "$dir/serve.pid" ]; then kill "$(cat "$dir/serve.pid")" 2>/dev/null || true; fi
rm -rf "$dir"
mkdir -p "$dir"
db="$dir/index.db"
md() { "$bin/maildiag" --db "$db" "$@"; }

echo "== Generating a $profile Mailgun account of $events events and serving it on 127.0.0.1"
MG_API_KEY="$key" "$bin/mgsim" serve --addr 127.0.0.1:0 --seed 1 --events "$events" --profile "$profile" \
	--ready-file "$dir/server.url" --manifest "$dir/stories.json" >"$dir/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
	[ -s "$dir/server.url" ] && break
	kill -0 "$server" 2>/dev/null || { cat "$dir/server.log" >&2; exit 1; }
	sleep 0.1
done
[ -s "$dir/server.url" ] || { echo "demo: the server did not start" >&2; exit 1; }
base=$(cat "$dir/server.url")
echo "   $base (stories: $dir/stories.json)"

echo
echo "== maildiag sync --api-base $base"
MG_API_KEY="$key" md sync --api-base "$base" --since 30d

echo
echo "== maildiag status"
md status

# "Now" is the end of the generated account, so the stories are where the manifest says.
now=$(sed -n 's/^  "end": "\([^"]*\)".*/\1/p' "$dir/stories.json" | head -1)
[ -n "$now" ] || now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
at() { md --now "$now" "$@"; }
# first N CMD...: the first N lines of a command's output (all of it is in
# $dir/last.txt); exit status 1 (nothing found) is an answer, not a failure.
first() {
	local n=$1
	shift
	local rc=0
	"$@" >"$dir/last.txt" || rc=$?
	[ "$rc" -le 1 ] || { cat "$dir/last.txt"; exit "$rc"; }
	head -n "$n" "$dir/last.txt" | cut -c1-200
}

echo
echo "== Nobody at acme.com gets our mail: maildiag suppressed acme.com"
first 20 at suppressed acme.com

echo
echo "== I never got my confirmation email: maildiag trace jane.doe@initech.com"
first 12 at trace jane.doe@initech.com

echo
echo "== maildiag trace john_smith@initech.com"
first 8 at trace john_smith@initech.com

echo
echo "== maildiag failures --since 7d --by class"
first 20 at failures --since 7d --by class

echo
echo "== maildiag failures --code 550 --to '*@gmail.com' --by day"
first 12 at failures --code 550 --to '*@gmail.com' --by day

echo
echo "== Log search: every suppressed address at acme.com (Permanent Fail, Not delivering to previously bounced address)"
first 12 at events --to '*@acme.com' --event permanent-fail --class suppressed-bounce

echo
echo "== Log search: status code 550 and To contains gmail.com"
first 8 at events --code 550 --to-contains gmail.com

echo
echo "== Log search: the password-reset email of one customer, and the sending domain it went from"
reset_to=$(at --output csv events --subject 'password reset' --event delivered --limit 1 | sed -n '2p' | cut -d, -f3)
first 8 at events --to "$reset_to" --subject 'password reset'

echo
echo "== Log search: the \"Verify your identity\" messages to maria.garcia@initech.com, then the last one's quick view"
first 8 at events --to maria.garcia@initech.com --subject 'verify your identity'
verify_id=$(at --output csv events --to maria.garcia@initech.com --subject 'verify your identity' --event accepted --limit 1 |
	sed -n '2p' | awk -F, '{print $12}')
MG_API_KEY="$key" first 6 at show "$verify_id" --message --api-base "$base"
echo "  ..."
sed -n '/^Message (/,$p' "$dir/last.txt" | head -n 24 | cut -c1-200

echo
echo "== maildiag report --since 7d -o $dir/report.html"
at report --since 7d -o "$dir/report.html"

echo
echo "== The team server: maildiag serve on the demo index, with a viewer (sync off: the generated account's server stops with this script)"
md users add demo-viewer --role viewer >/dev/null
token=$(md tokens create demo-viewer 2>/dev/null)
# Detached, so that it outlives the demo; any free loopback port.
setsid "$bin/maildiag" --db "$db" serve --listen 127.0.0.1:0 --no-sync >"$dir/serve.log" 2>&1 < /dev/null &
echo $! >"$dir/serve.pid"
url=
for _ in $(seq 1 100); do
	url=$(sed -n 's/^maildiag serve: \(http:[^ ]*\) .*/\1/p' "$dir/serve.log")
	[ -n "$url" ] && break
	kill -0 "$(cat "$dir/serve.pid")" 2>/dev/null || { cat "$dir/serve.log" >&2; exit 1; }
	sleep 0.1
done
[ -n "$url" ] || { echo "demo: the team server did not start" >&2; exit 1; }
echo "   $url  (log in with the viewer's token below; stop it with: kill \$(cat $dir/serve.pid))"
echo "   viewer token: $token"
echo "   curl -H \"Authorization: Bearer $token\" ${url}api/v1/suppressed/acme.com"
if command -v curl >/dev/null; then
	echo "   (answered $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "${url}api/v1/suppressed/acme.com"))"
fi

echo
echo "The report: $dir/report.html (open it in a browser; it makes no network request)"
