#!/usr/bin/env bash
# make lint: every C++ file of the tree is formatted as .clang-format says,
# and clang-tidy (.clang-tidy: its checks, every warning an error) passes on
# every source of src/. The format check fails naming the files that are not
# formatted (clang-format -i FILE fixes one); clang-tidy prints its findings.
# clang-tidy reads the compile commands of the build folder BUILD (default
# build; the Makefile configures it first). LINT_TIDY=0 skips it (seconds
# instead of minutes); JOBS sets its parallelism (default: every core).
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

[[ ${LINT_TIDY:-1} == 1 ]] || exit 0
TIDY=${CLANG_TIDY:-clang-tidy-14}
RUN_TIDY=${RUN_CLANG_TIDY:-run-clang-tidy-14}
BUILD=${BUILD:-build}
for tool in "$TIDY" "$RUN_TIDY"; do
  command -v "$tool" >/dev/null || { echo "lint: $tool is missing (make test-deps)" >&2; exit 1; }
done
[[ -f $BUILD/compile_commands.json ]] ||
  { echo "lint: no $BUILD/compile_commands.json: configure first (cmake -S . -B $BUILD)" >&2; exit 1; }
# Only src/: the tests and the generated sources of the build folder are not
# checked. run-clang-tidy takes a regular expression for the files, which
# compile_commands.json names by their physical path.
src_re="^$(sed 's/[][\.^$*+?(){}|]/\\&/g' <<<"$(pwd -P)")/src/"
start=$SECONDS
# Its own lines (each command, "N warnings generated" about the headers of
# other libraries that the header filter hides) and colours are dropped; the
# findings stay.
if ! "$RUN_TIDY" -clang-tidy-binary "$(command -v "$TIDY")" -p "$BUILD" -j "${JOBS:-$(nproc)}" -quiet \
  "$src_re" 2>&1 | sed -u -e 's/\x1b\[[0-9;]*m//g' -e '/^[^ ]*clang-tidy[^ ]* --use-color /d' \
  -e '/^[0-9]* warnings\? generated\.$/d' -e '/^Suppressed [0-9]* warnings/d' \
  -e '/^Use -header-filter=/d'; then
  echo "lint: clang-tidy found problems in src/ (above; .clang-tidy lists the checks)" >&2
  exit 1
fi
echo "lint: clang-tidy clean on src/ ($((SECONDS - start)) s)"
