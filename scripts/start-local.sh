#!/usr/bin/env bash
# Runs FunctionsChat locally with one command: Azurite (storage emulator) + Azure Functions Core Tools v4 on port 7071.
# Needs the .NET SDK and Node.js (npm). Installs what npm provides when it is missing (Azurite into .tools/azurite,
# Core Tools v4 into .tools/func, both git-ignored) and says exactly what is missing when it cannot. Safe to run again.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

fail() { echo "start-local: $*" >&2; exit 1; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# 1. The .NET SDK (the build) and npm (Azurite and Core Tools come from npm).
command -v dotnet >/dev/null \
  || fail "the .NET SDK is missing: install .NET SDK 10 (https://dot.net), then run this again."
sdks="$(dotnet --list-sdks 2>/dev/null || true)"
[[ "$sdks" == 10.* || "$sdks" == *$'\n'10.* ]] \
  || fail "no .NET 10 SDK found (dotnet --list-sdks): install .NET SDK 10 (https://dot.net); global.json pins it."
need_npm() {
  command -v node >/dev/null && command -v npm >/dev/null \
    || fail "Node.js and npm are missing; they are needed to install $1. Install Node.js 18 or later (https://nodejs.org, or 'apt-get install nodejs npm'), then run this again."
}

# 2. Azure Functions Core Tools v4: the 'func' on PATH if it is v4, else the copy in .tools/func, installed once.
func_dir="$root/.tools/func"
func_bin=""
if command -v func >/dev/null && [[ "$(func --version 2>/dev/null)" == 4.* ]]; then
  func_bin="$(command -v func)"
elif [[ -x "$func_dir/node_modules/.bin/func" ]] && [[ "$("$func_dir/node_modules/.bin/func" --version 2>/dev/null)" == 4.* ]]; then
  func_bin="$func_dir/node_modules/.bin/func"
else
  need_npm "Azure Functions Core Tools v4"
  echo "Installing Azure Functions Core Tools v4 from npm into .tools/func (once)"
  mkdir -p "$func_dir"
  # The package's install step downloads the Core Tools binaries from Microsoft's CDN, so it needs network access to
  # that CDN as well as to the npm registry.
  if ! npm install --prefix "$func_dir" --no-fund --no-audit --no-save --loglevel=error "azure-functions-core-tools@4" >&2; then
    fail "installing Azure Functions Core Tools v4 failed (npm install azure-functions-core-tools@4). The package downloads its binaries during install, so the npm registry and Microsoft's download CDN must both be reachable. Install Core Tools v4 another way (https://learn.microsoft.com/azure/azure-functions/functions-run-local) and put 'func' on PATH, then run this again."
  fi
  func_bin="$func_dir/node_modules/.bin/func"
  [[ -x "$func_bin" ]] && [[ "$("$func_bin" --version 2>/dev/null)" == 4.* ]] \
    || fail "npm installed azure-functions-core-tools@4, but '$func_bin --version' does not report 4.x: its binary download did not complete. Remove .tools/func and run this again, or install Core Tools v4 another way and put 'func' on PATH."
fi

# 3. Azurite on loopback, unless something already serves the storage ports.
if ! port_open 10000 || ! port_open 10001 || ! port_open 10002; then
  if port_open 10000 || port_open 10001 || port_open 10002; then
    fail "some of the storage emulator's ports (10000 blob, 10001 queue, 10002 table) are in use and some are not: stop what holds them, or start Azurite yourself, then run this again."
  fi
  if command -v azurite >/dev/null; then
    azurite_bin="$(command -v azurite)"
  else
    need_npm "Azurite"
    azurite_bin="$(bash scripts/install-azurite.sh)" \
      || fail "installing Azurite from npm failed (scripts/install-azurite.sh): check access to the npm registry."
  fi
  mkdir -p .azurite
  echo "Starting Azurite (data in .azurite/, loopback only; log in .azurite/azurite.log)"
  "$azurite_bin" --silent --location .azurite --debug .azurite/debug.log \
    --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 >.azurite/azurite.log 2>&1 &
  for _ in $(seq 1 50); do port_open 10000 && port_open 10001 && port_open 10002 && break; sleep 0.2; done
  port_open 10000 && port_open 10001 && port_open 10002 \
    || fail "Azurite did not start within 10 s; see .azurite/azurite.log."
fi

# 4. Settings, once: the sample's defaults (the Offline model, no authentication).
if [[ ! -f local.settings.json ]]; then
  cp local.settings.sample.json local.settings.json
  echo "Created local.settings.json from local.settings.sample.json"
fi

# 5. Build (FunctionsChatScheduler=true in the environment adds the Durable Task Scheduler provider) and start.
dotnet build FunctionApp/FunctionApp.csproj
cd FunctionApp
echo "Starting the app on http://localhost:7071/ (Ctrl+C stops it; Azurite keeps running)"
exec "$func_bin" start --port 7071
