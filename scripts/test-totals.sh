#!/usr/bin/env bash
# Prints "N passed, N failed, N skipped" from the .trx files under the given folder; fails if there are none.
set -euo pipefail
dir="${1:-TestResults}"
shopt -s nullglob globstar
files=("$dir"/**/*.trx)
if (( ${#files[@]} == 0 )); then
  echo "no test results under $dir" >&2
  exit 1
fi
passed=0 failed=0 skipped=0
for f in "${files[@]}"; do
  counters="$(grep -o '<Counters [^>]*>' "$f" | head -n 1)"
  get() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
  total=$(get total); executed=$(get executed)
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  skipped=$((skipped + total - executed))
done
echo "$passed passed, $failed failed, $skipped skipped"
