#!/usr/bin/env bash
# Runs the entity-state benchmarks (Release) and prints the size table and BenchmarkDotNet's timing table.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export FunctionsChatUseSurface="${FunctionsChatUseSurface:-true}"
dotnet run -c Release --project bench/FunctionsChat.Benchmarks -- --filter '*' --exporters github "$@"
