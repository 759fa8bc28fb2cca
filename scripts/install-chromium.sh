#!/usr/bin/env bash
# Installs, idempotently, the browser the page's tests drive: Debian's chromium package (Playwright for .NET launches
# it by its path; Playwright's own browser download is not used). Prints the browser's path.
set -euo pipefail
browser="${FUNCTIONSCHAT_CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$browser" ]]; then
  if ! command -v apt-get >/dev/null; then
    echo "Chromium is needed at $browser (or FUNCTIONSCHAT_CHROMIUM): install your distribution's chromium package" >&2
    exit 1
  fi
  sudo_cmd=()
  [[ "$(id -u)" -ne 0 ]] && sudo_cmd=(sudo -n)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq </dev/null >/dev/null
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends chromium </dev/null >/dev/null
fi
echo "$browser"
