#!/usr/bin/env bash
# make lint: every C++ file of the tree is formatted as .clang-format says.
# Fails naming the files that are not (clang-format -i FILE fixes one).
# The interface's script is linted by tests/integration/ui_test.sh (eslint).
set -euo pipefail
cd "$(dirname "$0")/.."
FORMAT=${CLANG_FORMAT:-clang-format-14}
command -v "$FORMAT" >/dev/null || { echo "lint: $FORMAT is missing (make test-deps)" >&2; exit 1; }
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.cpp' '*.hpp')
else
  mapfile -t files < <(find src tests bench -name '*.cpp' -o -name '*.hpp' | sort)
fi
bad=()
for f in "${files[@]}"; do
  "$FORMAT" --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]})); then
  printf 'lint: not formatted (clang-format -i): %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "lint: ${#files[@]} C++ files formatted as .clang-format says"
