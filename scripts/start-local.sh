#!/usr/bin/env bash
# Runs FunctionsChat locally: Azurite (storage emulator) + Azure Functions Core Tools v4 on port 7071.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if ! command -v func >/dev/null; then
  echo "Azure Functions Core Tools v4 is missing: install it with 'npm install -g azure-functions-core-tools@4' (or see https://learn.microsoft.com/azure/azure-functions/functions-run-local)." >&2
  exit 1
fi

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! port_open 10000; then
  if ! command -v azurite >/dev/null; then
    npm install --global --no-fund --no-audit azurite@3
  fi
  mkdir -p .azurite
  echo "Starting Azurite (data in .azurite/, loopback only)"
  azurite --silent --location .azurite --debug .azurite/debug.log \
    --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 >.azurite/azurite.log 2>&1 &
  for _ in $(seq 1 50); do port_open 10000 && port_open 10001 && port_open 10002 && break; sleep 0.2; done
  port_open 10002 || { echo "Azurite did not start; see .azurite/azurite.log" >&2; exit 1; }
fi

if [[ ! -f local.settings.json ]]; then
  cp local.settings.sample.json local.settings.json
  echo "Created local.settings.json from local.settings.sample.json"
fi

dotnet build FunctionApp/FunctionApp.csproj
cd FunctionApp
exec func start --port 7071
