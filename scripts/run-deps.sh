#!/usr/bin/env bash
# What `make run` needs from Debian: wkhtmltopdf for "Printen (PDF)". Installed as root, the
# way scripts/system-deps.sh does for the tests; otherwise the command is printed and the
# console starts anyway (everything but printing works without it).
set -uo pipefail
command -v wkhtmltopdf >/dev/null && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "wkhtmltopdf is missing: 'Printen (PDF)' will not work until you run" >&2
  echo "  sudo apt-get install wkhtmltopdf" >&2
  exit 0
fi
echo "Installing wkhtmltopdf …"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends wkhtmltopdf >/dev/null; }; then
  echo "Could not install wkhtmltopdf; starting without 'Printen (PDF)'." >&2
fi
exit 0
