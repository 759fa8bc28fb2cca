#!/usr/bin/env bash
# Installs, idempotently, what the build and tests need beyond the .NET SDK. Safe to run again.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

command -v dotnet >/dev/null || { echo "The .NET SDK 10 is required: https://dot.net" >&2; exit 1; }

# Infrastructure: compile and lint the Bicep templates (fetches the Bicep CLI from NuGet once).
bash scripts/bicep-check.sh

# Archive tests run against Azurite (npm), started by the tests themselves on loopback.
bash scripts/install-azurite.sh >/dev/null

# The page's browser tests drive Debian's chromium through Playwright for .NET.
bash scripts/install-chromium.sh >/dev/null
