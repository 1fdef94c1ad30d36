#!/usr/bin/env bash
# Installs Debian's PostgreSQL server and its contrib extensions (pg_trgm)
# for the PostgreSQL store's tests, which start a throwaway cluster of their
# own with initdb (internal/pgtest). Idempotent: does nothing when a server
# binary and pg_trgm are already there. Debian keeps the binaries under
# /usr/lib/postgresql/<major>/bin, outside PATH.
set -euo pipefail

have() {
	compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null &&
		compgen -G '/usr/share/postgresql/*/extension/pg_trgm.control' >/dev/null
}

if have; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-postgres: need root for apt-get (or install postgresql and postgresql-contrib yourself)" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# The package's own cluster is not used: the tests start theirs.
# A fresh machine has no package lists yet: install would find nothing.
if ! apt-get install -y -qq postgresql postgresql-contrib >/dev/null 2>&1; then
	apt-get update -qq
	apt-get install -y -qq postgresql postgresql-contrib >/dev/null
fi

have || { echo "install-postgres: initdb or pg_trgm still missing after apt-get" >&2; exit 1; }
ls -d /usr/lib/postgresql/*/bin
