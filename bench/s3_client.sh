#!/usr/bin/env bash
# Throughput of berth's S3 client against curl's built-in SigV4, on the same
# throwaway RGW (tests/support/ceph.sh, memstore OSD) and the same object:
# one PUT and one GET of a random file per round, MiB/s, ROUNDS rounds
# (default 3), alternating the clients. Needs a build with -DBERTH_BENCH=ON
# (the berth_s3_bench target); BERTH_BUILD names the build directory
# (default: build/).
#   bench/s3_client.sh [SIZE_MIB]      (default 256)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
BUILD=${BERTH_BUILD:-$TOP/build}
BENCH=$BUILD/bench/s3/berth_s3_bench
SIZE=${1:-256}
ROUNDS=${ROUNDS:-3}
[[ -x $BENCH ]] || { echo "no $BENCH: build berth_s3_bench with -DBERTH_BENCH=ON" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/berth-s3-bench.XXXXXX")
trap '"$TOP/tests/support/ceph.sh" stop "$WORK/ceph" >/dev/null 2>&1; rm -rf "$WORK"' EXIT
# Each round stores 2 objects and RGW reclaims overwritten ones only later.
CEPH_MEMSTORE_BYTES=$(((4 * ROUNDS * SIZE + 1024) << 20)) \
  "$TOP/tests/support/ceph.sh" start "$WORK/ceph" >/dev/null
set -a
# shellcheck disable=SC1091
source "$WORK/ceph/s3.env"
set +a
head -c $((SIZE << 20)) /dev/urandom >"$WORK/object"
url=$S3_ENDPOINT/$S3_BUCKET
sig=(--aws-sigv4 "aws:amz:$S3_REGION:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY"
  -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD')

mibs() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }
median() { tr ' ' '\n' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
bp=() bg=() cp=() cg=()
for r in $(seq 1 "$ROUNDS"); do
  read -r put get < <("$BENCH" "$WORK/object" "berth-$r" | sed 's/[a-z_]*=//g')
  bp+=("$put") bg+=("$get")
  # No -H 'Expect:' here: curl would sign the removed header and RGW refuse it.
  up=$(curl -sf "${sig[@]}" -T "$WORK/object" -o /dev/null -w '%{speed_upload}' "$url/curl-$r")
  down=$(curl -sf "${sig[@]}" -o /dev/null -w '%{speed_download}' "$url/curl-$r")
  cp+=("$(mibs "$up")") cg+=("$(mibs "$down")")
  echo "round $r: berth PUT $put GET $get MiB/s; curl PUT ${cp[-1]} GET ${cg[-1]} MiB/s"
done
echo "median of $ROUNDS, $SIZE MiB object: berth PUT $(echo "${bp[*]}" | median) GET $(echo "${bg[*]}" | median)" \
  "MiB/s; curl PUT $(echo "${cp[*]}" | median) GET $(echo "${cg[*]}" | median) MiB/s"
