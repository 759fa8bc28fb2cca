#!/usr/bin/env bash
# Runs the benchmarks (Release): entity state sizes and round trips, and prompt assembly over long sessions.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export FunctionsChatUseSurface="${FunctionsChatUseSurface:-true}"
dotnet run -c Release --project bench/FunctionsChat.Benchmarks -- --filter '*' --exporters github "$@"
