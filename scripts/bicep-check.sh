#!/usr/bin/env bash
# Compiles and lints infra/main.bicep with the Bicep CLI from NuGet (Azure.Bicep.CommandLine.linux-x64),
# cached in .tools/ (git-ignored). Fails on any warning or error.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

version="0.47.16"
packages="$root/.tools/nuget"
bicep="$packages/azure.bicep.commandline.linux-x64/$version/tools/bicep"
[[ -x "$bicep" ]] || bicep="$(find "$packages/azure.bicep.commandline.linux-x64/$version" -name bicep -type f 2>/dev/null | head -n 1 || true)"

if [[ -z "$bicep" || ! -f "$bicep" ]]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  cat >"$work/bicep.csproj" <<PROJECT
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework><ImportDirectoryBuildProps>false</ImportDirectoryBuildProps></PropertyGroup>
  <ItemGroup><PackageDownload Include="Azure.Bicep.CommandLine.linux-x64" Version="[$version]" /></ItemGroup>
</Project>
PROJECT
  dotnet restore "$work/bicep.csproj" --packages "$packages" >/dev/null
  bicep="$(find "$packages/azure.bicep.commandline.linux-x64/$version" -name bicep -type f | head -n 1)"
fi
chmod +x "$bicep"

status=0
for step in build lint; do
  args=("$step" infra/main.bicep)
  [[ "$step" == build ]] && args+=(--stdout)
  step_status=0
  if ! output="$("$bicep" "${args[@]}" 2>&1 >/dev/null)"; then
    step_status=1
  fi
  if [[ -n "$output" ]]; then
    echo "$output" >&2
    step_status=1
  fi
  (( step_status == 0 )) || status=1
  echo "bicep $step infra/main.bicep: $([[ $step_status == 0 ]] && echo clean || echo 'FAILED')"
done
# The template once with each Durable backend: its parameters as a deployment gives them, compiled and linted.
for params in infra/check/*.bicepparam; do
  param_status=0
  for step in build-params lint; do
    args=("$step" "$params")
    [[ "$step" == build-params ]] && args+=(--stdout)
    if ! output="$("$bicep" "${args[@]}" 2>&1 >/dev/null)" || [[ -n "$output" ]]; then
      [[ -n "$output" ]] && echo "$output" >&2
      param_status=1
    fi
  done
  (( param_status == 0 )) || status=1
  echo "bicep build-params and lint $params: $([[ $param_status == 0 ]] && echo clean || echo 'FAILED')"
done

# No secret may reach an app setting: no key lookups, account keys or SAS tokens anywhere in the templates.
if grep -rnE 'listKeys\(|AccountKey=|SharedAccessSignature|sig=' infra/; then
  echo "infra/ must not read or hold keys, connection strings with secrets or SAS tokens" >&2
  status=1
fi
exit "$status"
