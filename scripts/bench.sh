#!/usr/bin/env bash
# Runs the benchmarks (Release): entity state sizes and the largest durable payload with worst-case inputs, entity
# round trips, prompt assembly over long sessions, and token counting of long messages.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
dotnet run -c Release --project bench/FunctionsChat.Benchmarks -- --filter '*' --exporters github "$@"
