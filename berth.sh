#!/usr/bin/env bash
# The README's two commands on a bare Debian 12 (no make, no compiler yet):
#   ./berth.sh run    install what `make run` needs, then run it
#   ./berth.sh test   install what `make test` needs, then run it
# Any other make target works too (./berth.sh deb). Where make and the
# packages are already there, `make run` and `make test` do the same.
# Installing needs root (or sudo); see scripts/install-deps.sh.
set -euo pipefail
cd "$(dirname "$0")"

if (($# == 0)); then
  echo "usage: $0 run|test|MAKE-TARGET... [VAR=VALUE...]" >&2
  exit 2
fi
if [[ ! -r /etc/debian_version ]]; then
  echo "berth.sh: this installs Debian 12 packages with apt; on another system install the" >&2
  echo "packages listed in scripts/install-deps.sh yourself and run make $*" >&2
  exit 1
fi

# The package set of the most demanding target asked for.
set_=""
for t in "$@"; do
  case $t in
    test | unit* | integration* | fuzz* | build-asan | build-tsan | build-fuzz | bare-machine) set_=--test ;;
    deb) [[ $set_ == --test ]] || set_=--deb ;;
  esac
done
scripts/install-deps.sh $set_
exec make "$@"
