#!/usr/bin/env bash
# Installs Debian's headless-capable chromium for the report's browser test.
# Idempotent: does nothing when /usr/bin/chromium is already there.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-chromium: need root for apt-get (or install chromium yourself)" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet: install would find nothing.
if ! apt-get install -y -qq chromium >/dev/null 2>&1; then
	apt-get update -qq
	apt-get install -y -qq chromium >/dev/null
fi

/usr/bin/chromium --version
