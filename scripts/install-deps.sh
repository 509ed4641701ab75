#!/usr/bin/env bash
# Installs, from Debian 12's archive, every package berth needs to build, run
# and test. Safe to run again: apt-get skips what is already there.
set -euo pipefail

build_pkgs=(
  build-essential cmake pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsqlite3-dev libyaml-cpp-dev libspdlog-dev libcli11-dev
  libgtest-dev libbenchmark-dev
)
# clang and its runtimes (libFuzzer, sanitizers) build the fuzz targets (make fuzz-short).
test_pkgs=(curl bc openssl skopeo podman buildah docker.io docker-registry apache2-utils jq python3 procps
  python3-keystone resource-agents golang-go clang libclang-rt-14-dev faketime prometheus iproute2)

want=("${build_pkgs[@]}")
if [[ "${1:-}" == "--test" ]]; then want+=("${test_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then exit 0; fi

echo "installing: ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
