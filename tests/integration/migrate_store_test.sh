#!/usr/bin/env bash
# `berth migrate-store`: a filesystem + SQLite root A, served by a berth that
# keeps taking pushes, is copied into a target; a second run after A stops
# copies only what came since; a berth on the target serves every image with
# the same digests; a corrupted source blob is reported and fails the run,
# and --verify finds a corrupted target copy.
#
# The target is whatever target_config / start_target make of it. Default:
# another filesystem + SQLite root. Set MIGRATE_TARGET_LIB to a script that
# redefines both (e.g. S3 + PostgreSQL from cluster.sh) to run the same
# checks against other stores (target names: B, then an empty one named
# $FRESH_TARGET, default C); it may also redefine corrupt_target_blob
# (return 1 to skip that check).
source "$(dirname "$0")/lib.sh"

# target_config NAME: writes a config for the target NAME (an empty store
# on first use) and prints its path.
target_config() {
  local cfg=$WORK/$1.yaml
  printf 'storage:\n  root: %s\n' "$WORK/$1" >"$cfg"
  echo "$cfg"
}
# start_target NAME PORT: serves the target NAME over plain HTTP on PORT.
start_target() {
  START_ARGS=(-c "$(target_config "$1")")
  start_berth "$WORK/$1" "$2" BERTH_TLS_ENABLED=false
  START_ARGS=()
}
# corrupt_target_blob NAME DIGEST: changes one byte of the target's copy.
corrupt_target_blob() {
  local hex=${2#sha256:}
  printf 'X' | dd of="$WORK/$1/blobs/sha256/${hex:0:2}/$hex" bs=1 seek=3 conv=notrunc status=none
}
if [[ -n "${MIGRATE_TARGET_LIB:-}" ]]; then source "$MIGRATE_TARGET_LIB"; fi

A=$WORK/A
PORT_A=$(free_port)
start_berth "$A" "$PORT_A" BERTH_TLS_ENABLED=false || exit 1
PID_A=$BERTH_PID
URL_A=$BASE

OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
OCI_INDEX=application/vnd.oci.image.index.v1+json
ACCEPT="Accept: $OCI_MANIFEST, $OCI_INDEX"
sha() { sha256sum "$1" | cut -d' ' -f1; }

# push_blob URL REPO FILE: monolithic upload; prints the digest.
push_blob() {
  local d=sha256:$(sha "$3")
  local code
  code=$(curl -s --max-time 60 -o /dev/null -w '%{http_code}' -X POST --data-binary @"$3" \
    -H 'Content-Type: application/octet-stream' "$1/v2/$2/blobs/uploads/?digest=$d")
  [[ $code == 201 ]] || { echo "push of $3 to $2 answered $code" >&2; return 1; }
  echo "$d"
}
# push_manifest URL REPO REF FILE MEDIATYPE: prints the digest.
push_manifest() {
  local code
  code=$(curl -s --max-time 30 -o /dev/null -w '%{http_code}' -X PUT --data-binary @"$4" \
    -H "Content-Type: $5" "$1/v2/$2/manifests/$3")
  [[ $code == 201 ]] || { echo "manifest $2:$3 answered $code" >&2; return 1; }
  echo "sha256:$(sha "$4")"
}
# image_manifest CONFIG_DIGEST CONFIG_FILE LAYER_DIGEST LAYER_FILE OUT [SUBJECT_DIGEST SUBJECT_FILE]
image_manifest() {
  local subject=""
  if [[ $# -ge 7 ]]; then
    subject=$(printf ',"subject":{"mediaType":"%s","digest":"%s","size":%d}' "$OCI_MANIFEST" "$6" "$(stat -c %s "$7")")
  fi
  printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%d}]%s}' \
    "$OCI_MANIFEST" "$1" "$(stat -c %s "$2")" "$3" "$(stat -c %s "$4")" "$subject" >"$5"
}
# make_image URL REPO NAME [SUBJECT_DIGEST SUBJECT_FILE]: a config and a small
# layer unique to NAME; prints the manifest file (not yet pushed).
make_image() {
  local dir=$WORK/img/$3
  mkdir -p "$dir"
  printf '{"architecture":"amd64","os":"linux","name":"%s"}' "$3" >"$dir/config"
  printf 'layer of %s\n' "$3" >"$dir/layer"
  local cd ld
  cd=$(push_blob "$1" "$2" "$dir/config") && ld=$(push_blob "$1" "$2" "$dir/layer") || return 1
  image_manifest "$cd" "$dir/config" "$ld" "$dir/layer" "$dir/manifest" "${@:4}"
  echo "$dir/manifest"
}

# What every check on the target compares against: "repo ref digest" lines.
EXPECT=$WORK/expected
: >"$EXPECT"
BLOBS=$WORK/blobs   # "repo digest" lines
: >"$BLOBS"
record() { echo "$1 $2 $3" >>"$EXPECT"; }

# 1. An image with two tags.
m=$(make_image "$URL_A" app/one one) || exit 1
d_one=$(push_manifest "$URL_A" app/one v1 "$m" $OCI_MANIFEST) || exit 1
push_manifest "$URL_A" app/one latest "$m" $OCI_MANIFEST >/dev/null || exit 1
record app/one v1 "$d_one"; record app/one latest "$d_one"
one_manifest=$m
# 2. A referrer of it (pushed by digest, no tag).
m=$(make_image "$URL_A" app/one sbom "$d_one" "$one_manifest") || exit 1
d_ref=$(push_manifest "$URL_A" app/one "sha256:$(sha "$m")" "$m" $OCI_MANIFEST) || exit 1
record app/one "$d_ref" "$d_ref"
# 3. An index with two children (children by digest, the index by tag).
ma=$(make_image "$URL_A" app/multi amd64) && mb=$(make_image "$URL_A" app/multi arm64) || exit 1
da=$(push_manifest "$URL_A" app/multi "sha256:$(sha "$ma")" "$ma" $OCI_MANIFEST) || exit 1
db=$(push_manifest "$URL_A" app/multi "sha256:$(sha "$mb")" "$mb" $OCI_MANIFEST) || exit 1
printf '{"schemaVersion":2,"mediaType":"%s","manifests":[{"mediaType":"%s","digest":"%s","size":%d,"platform":{"architecture":"amd64","os":"linux"}},{"mediaType":"%s","digest":"%s","size":%d,"platform":{"architecture":"arm64","os":"linux"}}]}' \
  "$OCI_INDEX" "$OCI_MANIFEST" "$da" "$(stat -c %s "$ma")" "$OCI_MANIFEST" "$db" "$(stat -c %s "$mb")" >"$WORK/index.json"
d_idx=$(push_manifest "$URL_A" app/multi v1 "$WORK/index.json" $OCI_INDEX) || exit 1
record app/multi v1 "$d_idx"; record app/multi "$da" "$da"; record app/multi "$db" "$db"
# 4. A 20 MiB layer, shared by two repositories (one blob file, two links).
head -c 20971520 /dev/urandom >"$WORK/big.layer"
printf '{"architecture":"amd64","os":"linux","name":"big"}' >"$WORK/big.config"
for repo in app/big other/big; do
  cd=$(push_blob "$URL_A" $repo "$WORK/big.config") && ld=$(push_blob "$URL_A" $repo "$WORK/big.layer") || exit 1
  echo "$repo $ld" >>"$BLOBS"
done
image_manifest "$cd" "$WORK/big.config" "$ld" "$WORK/big.layer" "$WORK/big.manifest"
for repo in app/big other/big; do
  d_big=$(push_manifest "$URL_A" $repo v1 "$WORK/big.manifest" $OCI_MANIFEST) || exit 1
  record $repo v1 "$d_big"
done
big_layer=$ld
# 5. A repository whose tags move while the first run copies.
m=$(make_image "$URL_A" busy/x busy) || exit 1
d_busy=$(push_manifest "$URL_A" busy/x t0 "$m" $OCI_MANIFEST) || exit 1
busy_manifest=$m
record busy/x t0 "$d_busy"
pass "source populated: $(wc -l <"$EXPECT") references"

TARGET=B
CFG_B=$(target_config $TARGET)
# The first run, while A serves and takes tag pushes.
(for i in $(seq 1 20); do push_manifest "$URL_A" busy/x "t$i" "$busy_manifest" $OCI_MANIFEST >/dev/null; done) &
busy_pid=$!
"$BERTH_BIN" migrate-store --from "$A" -c "$CFG_B" >"$WORK/run1.json" 2>"$WORK/run1.err"
rc=$?
wait $busy_pid
for i in $(seq 1 20); do record busy/x "t$i" "$d_busy"; done
expect_eq "first run (source serving) exits 0" 0 "$rc"
[[ $rc == 0 ]] || tail -5 "$WORK/run1.err"
j() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
total1=$(j "$WORK/run1.json" blobs_total)
expect_eq "first run copied every blob it saw" "$total1" "$(j "$WORK/run1.json" blobs_copied)"
check "first run copied the 20 MiB layer once ($(j "$WORK/run1.json" bytes_copied) bytes)" \
  test "$(j "$WORK/run1.json" bytes_copied)" -gt 20971520
check "progress lines on stderr" grep -qE '^blobs [0-9]+/[0-9]+, ' "$WORK/run1.err"
echo "  run 1: $(cat "$WORK/run1.json")"

# Rerun at once: nothing new but the busy tags pushed during run 1.
"$BERTH_BIN" migrate-store --from "$A" -c "$CFG_B" >"$WORK/run1b.json" 2>"$WORK/run1b.err"
expect_eq "immediate rerun exits 0" 0 $?
expect_eq "immediate rerun copies no blob" 0 "$(j "$WORK/run1b.json" blobs_copied)"
expect_eq "immediate rerun puts no manifest" 0 "$(j "$WORK/run1b.json" manifests_new)"

# One more image, then the source stops and the last run copies only it.
m=$(make_image "$URL_A" app/late late) || exit 1
d_late=$(push_manifest "$URL_A" app/late v1 "$m" $OCI_MANIFEST) || exit 1
record app/late v1 "$d_late"
stop_berth
"$BERTH_BIN" migrate-store --from "$A" -c "$CFG_B" >"$WORK/run2.json" 2>"$WORK/run2.err"
rc=$?
expect_eq "final run (source stopped) exits 0" 0 "$rc"
[[ $rc == 0 ]] || tail -5 "$WORK/run2.err"
expect_eq "final run copied the new image's 2 blobs" 2 "$(j "$WORK/run2.json" blobs_copied)"
expect_eq "final run skipped the others" "$total1" "$(j "$WORK/run2.json" blobs_skipped)"
expect_eq "final run put 1 manifest" 1 "$(j "$WORK/run2.json" manifests_new)"
expect_eq "final run set 1 tag" 1 "$(j "$WORK/run2.json" tags_new)"
expect_eq "final run linked 2 blobs" 2 "$(j "$WORK/run2.json" links_new)"
echo "  run 2: $(cat "$WORK/run2.json")"

# The target serves everything with the same digests.
PORT_B=$(free_port)
start_target $TARGET "$PORT_B" || exit 1
URL_B=$BASE
bad=0
while read -r repo ref digest; do
  got=$(curl -s --max-time 30 -H "$ACCEPT" "$URL_B/v2/$repo/manifests/$ref" | sha256sum | cut -d' ' -f1)
  if [[ "sha256:$got" != "$digest" ]]; then echo "  $repo:$ref -> sha256:$got, want $digest"; bad=$((bad + 1)); fi
  # every blob the manifest names (config and layers of images)
  for b in $(curl -s --max-time 30 -H "$ACCEPT" "$URL_B/v2/$repo/manifests/$ref" |
    python3 -c 'import json,sys; m=json.load(sys.stdin); print(" ".join([m["config"]["digest"]] + [l["digest"] for l in m.get("layers", [])]) if "config" in m else "")'); do
    echo "$repo $b" >>"$BLOBS"
  done
done <"$EXPECT"
expect_eq "every tag and digest resolves on the target to the source's manifest" 0 "$bad"
bad=0
nblobs=0
while read -r repo digest; do
  nblobs=$((nblobs + 1))
  got=$(curl -s --max-time 60 "$URL_B/v2/$repo/blobs/$digest" | sha256sum | cut -d' ' -f1)
  [[ "sha256:$got" == "$digest" ]] || { echo "  blob $repo@$digest -> $got"; bad=$((bad + 1)); }
done < <(sort -u "$BLOBS")
expect_eq "all $nblobs blob reads on the target return the same bytes" 0 "$bad"
refs=$(curl -s --max-time 30 "$URL_B/v2/app/one/referrers/$d_one")
expect_contains "the referrer is listed for its subject on the target" "$d_ref" "$refs"
tags=$(curl -s --max-time 30 "$URL_B/v2/busy/x/tags/list")
expect_contains "tags pushed during the first run arrived" '"t20"' "$tags"
stop_berth

# A corrupted source blob (same size, other bytes) is reported, not copied.
late_layer=sha256:$(sha "$WORK/img/late/layer")
hex=${late_layer#sha256:}
printf 'X' | dd of="$A/blobs/sha256/${hex:0:2}/$hex" bs=1 seek=2 conv=notrunc status=none
TARGET2=${FRESH_TARGET:-C}
CFG_C=$(target_config "$TARGET2")
"$BERTH_BIN" migrate-store --from "$A" -c "$CFG_C" --jobs 2 >"$WORK/run3.json" 2>"$WORK/run3.err"
expect_eq "a corrupt source blob fails the run (exit 1)" 1 $?
expect_contains "it is reported by digest" "corrupt_source $late_layer" "$(cat "$WORK/run3.err")"
expect_eq "exactly one bad blob" 1 "$(j "$WORK/run3.json" blobs_bad)"
expect_eq "everything else was copied" $((total1 + 1)) "$(j "$WORK/run3.json" blobs_copied)"
check "the image using it is reported missing by the final check" \
  grep -q "verify app/late:v1" "$WORK/run3.err"

# --verify reads back what the target already holds.
if corrupt_target_blob $TARGET "$big_layer"; then
  "$BERTH_BIN" migrate-store --from "$A" -c "$CFG_B" >"$WORK/run4.json" 2>"$WORK/run4.err"
  expect_eq "without --verify a same-size corrupt target copy is trusted" 0 $?
  "$BERTH_BIN" migrate-store --from "$A" -c "$CFG_B" --verify >"$WORK/run5.json" 2>"$WORK/run5.err"
  expect_eq "with --verify it fails the run" 1 $?
  expect_contains "and names the blob" "target_mismatch $big_layer" "$(cat "$WORK/run5.err")"
fi

# Bad command lines.
"$BERTH_BIN" migrate-store --from "$A" -c "$(target_config A)" >/dev/null 2>&1
expect_eq "the source as target is refused (exit 2)" 2 $?
"$BERTH_BIN" migrate-store --from "$WORK/nowhere" -c "$CFG_B" >/dev/null 2>&1
expect_eq "a missing source is refused (exit 2)" 2 $?

summary
