#!/usr/bin/env bash
# Installs Azurite from npm into .tools/azurite (git-ignored), once. Prints the path of azurite (blob, queue and table services).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="3.37.0"
dir="$root/.tools/azurite"
bin="$dir/node_modules/.bin/azurite"
if [[ ! -x "$bin" ]] || ! grep -q "\"version\": \"$version\"" "$dir/node_modules/azurite/package.json" 2>/dev/null; then
  command -v npm >/dev/null || { echo "npm is required to install Azurite (apt-get install nodejs npm)" >&2; exit 1; }
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-fund --no-audit --no-save --loglevel=error "azurite@$version" >&2
fi
echo "$bin"
