#!/usr/bin/env bash
# Installs, from Debian 12's archive, the packages berth needs:
#   install-deps.sh          to build and run berth (make run): compiler, make, cmake, libraries
#   install-deps.sh --test   also what the tests use (make test): GoogleTest, clients, clang...
# Safe to run again: only missing packages are installed, and nothing at all
# (no root needed) when none is missing. Needs root, or sudo, to install.
set -euo pipefail

# make, a C++20 compiler and the libraries of the `berth` target only.
build_pkgs=(
  build-essential make cmake pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsqlite3-dev libpq-dev libyaml-cpp-dev libspdlog-dev libcli11-dev
  libcurl4-openssl-dev libexpat1-dev
)
# The unit tests and benchmarks (BERTH_TESTS=ON), the clients and reference
# registry of the integration tests (docker.io: its own dockerd per test;
# prometheus: promtool and a real scraper; iproute2: private network
# namespaces), clang and its runtimes (libFuzzer, sanitizers) for the fuzz
# targets, the package tools of `make deb` and tests/integration/deb_test.sh, and
# the PostgreSQL server of tests/integration/pg_store_test.sh, and the Ceph
# RGW and HAProxy of the S3 and scale-out suites (tests/support/), and the
# headless browser of the web interface suite (tests/integration/ui_test.sh),
# and node and eslint for its script's unit tests and lint, clang-format and
# clang-tidy for `make lint`, and pytest with requests for the suites written
# in Python (tests/integration/py/).
test_pkgs=(
  libgtest-dev libbenchmark-dev
  curl bc openssl skopeo podman buildah docker.io docker-registry apache2-utils jq python3 procps
  python3-keystone resource-agents golang-go clang libclang-rt-14-dev faketime prometheus iproute2
  debootstrap lintian help2man dpkg-dev postgresql
  ceph-mon ceph-osd radosgw ceph-common haproxy
  chromium chromium-driver python3-selenium nodejs eslint clang-format-14
  clang-tidy-14 python3-pytest python3-requests
)
# `make deb` alone: the build set and the package tools.
deb_pkgs=(help2man dpkg-dev lintian)

want=("${build_pkgs[@]}")
# For tests of this script only: extra package names to want.
# shellcheck disable=SC2206
want+=(${INSTALL_DEPS_EXTRA:-})
case "${1:-}" in
  --test) want+=("${test_pkgs[@]}") ;;
  --deb) want+=("${deb_pkgs[@]}") ;;
  "") ;;
  *)
    echo "usage: $0 [--test | --deb]" >&2
    exit 2
    ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then exit 0; fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  elif command -v sudo >/dev/null && [[ -t 0 ]]; then
    SUDO=(sudo)
  else
    cat >&2 <<EOF
berth: ${#missing[@]} Debian packages are missing, and installing them needs root:
  ${missing[*]}
You are not root and cannot use sudo. Either
  - ask an administrator to run, as root, in this directory:
      scripts/install-deps.sh ${1:-}
    then run the same command again as yourself (nothing is installed then), or
  - run the whole command as root (su -c '...').
Building and running berth itself never needs root.
EOF
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "berth: installing ${#missing[@]} Debian packages and what they depend on: ${missing[*]}"
echo "berth: [1/2] apt-get update"
"${SUDO[@]}" apt-get update 2>&1 | awk '/^(Get|Hit|Err|W:|E:)/ { print "  " $0; fflush() }' ||
  { echo "berth: apt-get update failed (network, or the sources in /etc/apt?)" >&2; exit 1; }

# One line per download, unpack and set-up, numbered against the total that
# apt announces, so the minutes of a first install are never silent.
echo "berth: [2/2] apt-get install"
log=$(mktemp "${TMPDIR:-/tmp}/berth-apt.XXXXXX")
trap 'rm -f "$log"' EXIT
"${SUDO[@]}" apt-get install -y --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}" 2>&1 |
  tee "$log" | awk '
    /newly installed/ { n = $3 + 0; print "  " $0; fflush(); next }
    /^Need to get/    { print "  " $0; fflush(); next }
    /^Get:/           { g++; printf "  download %d/%d: %s %s\n", g, n, $5, $7; fflush(); next }
    /^Unpacking /     { u++; printf "  unpack   %d/%d: %s\n", u, n, $2; fflush(); next }
    /^Setting up /    { s++; printf "  set up   %d/%d: %s\n", s, n, $3; fflush(); next }
    /^(E|W): /        { print "  " $0; fflush(); next }
  ' || {
  echo "berth: apt-get install failed; its last lines:" >&2
  tail -25 "$log" >&2
  exit 1
}
echo "berth: packages installed"
