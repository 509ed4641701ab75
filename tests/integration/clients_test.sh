#!/bin/bash
# Integration test with REAL container clients (skopeo, podman, buildah)
# against the real berth binary, over HTTPS on 127.0.0.1.
#
#   1. skopeo: hand-made single-arch OCI layout -> berth -> OCI layout and dir:,
#      byte-identical manifest, config and layer; digest in berth = local digest.
#   2. skopeo --all: multi-arch OCI index (amd64 + arm64) round trip,
#      `inspect --raw` returns the index bytes; per-platform resolution.
#   3. skopeo inspect (Digest, RepoTags), list-tags (sorted), delete by tag
#      (every tag on that digest goes, other tags and repositories stay).
#   4. skopeo copy --format v2s2: Docker schema2 media types.
#   5. podman: pull, tag, push to another repo, pull back by digest,
#      push --format v2s2, pull one platform of the index.
#   6. buildah: from scratch, copy, commit, push, pull back, read the file.
#
# No credentials (berth has no authentication yet). Clients use a private
# storage (vfs), auth file, containers.conf and registries.conf under $WORK,
# so nothing in /etc or $HOME is changed. (skopeo itself has no option for its
# blob-info cache, which it keeps in /var/lib/containers/cache as root.)
#
# Environment: KEEP_WORK=1 keeps the temp dir (logs in $WORK/logs, berth's log
# in $WORK/root.log).

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/oci.sh"

LOGS=$WORK/logs
mkdir -p "$LOGS" "$WORK/tmp"
TIMINGS=()

# ---------------------------------------------------------------- helpers


# run LABEL CMD...: runs CMD bounded by `timeout 120`, stdout to
# $LOGS/LABEL.out, stderr to $LOGS/LABEL.err, records the elapsed time.
# Prints the end of stderr when CMD fails. Returns CMD's exit code.
run() {
  local label=$1 t0 t1 rc
  shift
  t0=$(date +%s.%N)
  timeout 120 "$@" >"$LOGS/$label.out" 2>"$LOGS/$label.err" </dev/null
  rc=$?
  t1=$(date +%s.%N)
  TIMINGS+=("$(printf '%-28s %7.2f s  rc=%d' "$label" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" "$rc")")
  if [[ $rc -ne 0 ]]; then
    echo "  [$label: rc=$rc] $*"
    tail -n 4 "$LOGS/$label.err" | sed 's/^/  | /'
  fi
  return $rc
}
out() { cat "$LOGS/$1.out" 2>/dev/null; }


# put_blob LAYOUT FILE: stores FILE as a blob, prints "HEX SIZE".
put_blob() {
  local hex size
  hex=$(sha256sum "$2" | cut -d' ' -f1)
  size=$(stat -c %s "$2")
  mkdir -p "$1/blobs/sha256"
  cp "$2" "$1/blobs/sha256/$hex"
  echo "$hex $size"
}

# add_image LAYOUT TEXT ARCH [VARIANT]: writes a one-layer image (layer,
# config, OCI manifest) into LAYOUT (deterministic: fixed mtime, owner,
# gzip -n). Sets IMG_M (manifest hex), IMG_MSIZE, IMG_C, IMG_L.
# With BIG_MB=N the layer also holds N MiB of random data (big.bin).
add_image() {
  local D=$1 text=$2 arch=$3 variant=${4:-} W diffid vjson=""
  W=$(mktemp -d "$WORK/mk.XXXXXX")
  mkdir -p "$W/root"
  printf '%s\n' "$text" >"$W/root/hello.txt"
  if [[ -n ${BIG_MB:-} ]]; then head -c "$((BIG_MB * 1048576))" /dev/urandom >"$W/root/big.bin"; fi
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$W/root" -cf "$W/layer.tar" .
  gzip -n -9 -c "$W/layer.tar" >"$W/layer.tar.gz"
  diffid=$(sha256sum "$W/layer.tar" | cut -d' ' -f1)
  local l c
  read -r IMG_L l < <(put_blob "$D" "$W/layer.tar.gz")
  [[ -n $variant ]] && vjson=",\"variant\":\"$variant\""
  printf '{"architecture":"%s","os":"linux"%s,"config":{"Cmd":["/hello.txt"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$arch" "$vjson" "$diffid" >"$W/config.json"
  read -r IMG_C c < <(put_blob "$D" "$W/config.json")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%d}]}' \
    "$IMG_C" "$c" "$IMG_L" "$l" >"$W/manifest.json"
  read -r IMG_M IMG_MSIZE < <(put_blob "$D" "$W/manifest.json")
  rm -rf "$W"
}

# write_index_json LAYOUT MEDIATYPE HEX SIZE TAG
write_index_json() {
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"%s","digest":"sha256:%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
    "$2" "$3" "$4" "$5" >"$1/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$1/oci-layout"
}

blob() { echo "$1/blobs/sha256/$2"; }
same() { cmp -s "$1" "$2"; }
# layout_ref LAYOUT: the digest that index.json's first entry points to
layout_ref() { jq -r '.manifests[0].digest' "$1/index.json" 2>/dev/null; }
# header VALUE from a curl -D dump
hdr() { tr -d '\r' <"$1" | awk -F': ' -v h="$(echo "$2" | tr '[:upper:]' '[:lower:]')" 'tolower($1)==h{print $2}' | tail -1; }

need() {
  if ! command -v "$1" >/dev/null; then fail "$1 is installed (apt-get install $1)"; return 1; fi
}

# ---------------------------------------------------------------- set-up

for _ in $(seq 1 18); do [[ -x $BERTH_BIN ]] && break; echo "waiting for $BERTH_BIN"; sleep 10; done
need skopeo; need jq; need curl
HAVE_PODMAN=1; need podman || HAVE_PODMAN=0
HAVE_BUILDAH=1; need buildah || HAVE_BUILDAH=0

PORT=$(free_port)
R=127.0.0.1:$PORT
t0=$(date +%s.%N)
if ! start_berth "$WORK/root" "$PORT"; then
  fail "berth starts"
  summary
  exit 1
fi
TIMINGS+=("$(printf '%-28s %7.2f s' berth-start "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')")")
echo "# berth on $BASE, work dir $WORK"

# Private client configuration: nothing in /etc or ~ is read for storage or
# auth, or written.
use_private_container_config

OCI_M=application/vnd.oci.image.manifest.v1+json
OCI_I=application/vnd.oci.image.index.v1+json
D2_M=application/vnd.docker.distribution.manifest.v2+json
D2_C=application/vnd.docker.container.image.v1+json
D2_L=application/vnd.docker.image.rootfs.diff.tar.gzip
ACCEPT_ALL="$OCI_M, $OCI_I, $D2_M, application/vnd.docker.distribution.manifest.list.v2+json"

# ================================================================ 1. single-arch OCI round trip
echo "# 1. skopeo: single-arch OCI layout round trip"
L1=$WORK/l1
add_image "$L1" "hello from berth" amd64
M1=$IMG_M M1SIZE=$IMG_MSIZE C1=$IMG_C LY1=$IMG_L
write_index_json "$L1" "$OCI_M" "$M1" "$M1SIZE" v1

check "skopeo copy oci layout -> berth alice/hello:v1" \
  run s1-push skopeo copy --dest-cert-dir "$CERTDIR" "oci:$L1:v1" "docker://$R/alice/hello:v1"
run s1-inspect skopeo inspect --cert-dir "$CERTDIR" "docker://$R/alice/hello:v1"
expect_eq "skopeo inspect Digest = local manifest digest" "sha256:$M1" "$(out s1-inspect | jq -r .Digest)"
expect_eq "skopeo inspect Architecture" "amd64" "$(out s1-inspect | jq -r .Architecture)"
run s1-inspect-raw skopeo inspect --cert-dir "$CERTDIR" --raw "docker://$R/alice/hello:v1"
check "skopeo inspect --raw = local manifest bytes" same "$LOGS/s1-inspect-raw.out" "$(blob "$L1" "$M1")"
curl -s --cacert "$CACERT" -I -H "Accept: $ACCEPT_ALL" -D "$LOGS/s1-head.hdr" -o /dev/null "$BASE/v2/alice/hello/manifests/v1"
expect_eq "HEAD manifest: Docker-Content-Digest" "sha256:$M1" "$(hdr "$LOGS/s1-head.hdr" Docker-Content-Digest)"
expect_eq "HEAD manifest: Content-Type" "$OCI_M" "$(hdr "$LOGS/s1-head.hdr" Content-Type)"

B1=$WORK/back1
check "skopeo copy berth -> new oci layout" \
  run s1-pull-oci skopeo copy --src-cert-dir "$CERTDIR" "docker://$R/alice/hello:v1" "oci:$B1:v1"
expect_eq "pulled layout references the same manifest digest" "sha256:$M1" "$(layout_ref "$B1")"
check "pulled layout: manifest byte-identical" same "$(blob "$B1" "$M1")" "$(blob "$L1" "$M1")"
check "pulled layout: config byte-identical" same "$(blob "$B1" "$C1")" "$(blob "$L1" "$C1")"
check "pulled layout: layer byte-identical" same "$(blob "$B1" "$LY1")" "$(blob "$L1" "$LY1")"

B1D=$WORK/back1dir
check "skopeo copy berth -> dir:" \
  run s1-pull-dir skopeo copy --src-cert-dir "$CERTDIR" "docker://$R/alice/hello:v1" "dir:$B1D"
check "dir: manifest.json byte-identical" same "$B1D/manifest.json" "$(blob "$L1" "$M1")"
check "dir: config byte-identical" same "$B1D/$C1" "$(blob "$L1" "$C1")"
check "dir: layer byte-identical" same "$B1D/$LY1" "$(blob "$L1" "$LY1")"

# A big layer (random, so gzip keeps it ~24 MiB): the clients stream it in a
# PATCH with chunked transfer encoding.
LBIG=$WORK/lbig
BIG_MB=24 add_image "$LBIG" "big image" amd64
MBIG=$IMG_M LYBIG=$IMG_L
write_index_json "$LBIG" "$OCI_M" "$MBIG" "$IMG_MSIZE" v1
echo "  (big layer: $(stat -c %s "$(blob "$LBIG" "$LYBIG")") bytes)"
check "skopeo copy 24 MiB layer -> berth alice/big:v1" \
  run s1-push-big skopeo copy --dest-cert-dir "$CERTDIR" "oci:$LBIG:v1" "docker://$R/alice/big:v1"
check "skopeo copy alice/big:v1 -> dir:" \
  run s1-pull-big skopeo copy --src-cert-dir "$CERTDIR" "docker://$R/alice/big:v1" "dir:$WORK/backbig"
check "big layer byte-identical" same "$WORK/backbig/$LYBIG" "$(blob "$LBIG" "$LYBIG")"
check "big manifest byte-identical" same "$WORK/backbig/manifest.json" "$(blob "$LBIG" "$MBIG")"

# ================================================================ 2. multi-arch index
echo "# 2. skopeo --all: multi-arch OCI index round trip"
L2=$WORK/l2
add_image "$L2" "multi amd64" amd64
MA=$IMG_M MASIZE=$IMG_MSIZE CA=$IMG_C LA=$IMG_L
add_image "$L2" "multi arm64" arm64 v8
MB=$IMG_M MBSIZE=$IMG_MSIZE CB=$IMG_C LB=$IMG_L
printf '{"schemaVersion":2,"mediaType":"%s","manifests":[{"mediaType":"%s","digest":"sha256:%s","size":%d,"platform":{"architecture":"amd64","os":"linux"}},{"mediaType":"%s","digest":"sha256:%s","size":%d,"platform":{"architecture":"arm64","os":"linux","variant":"v8"}}]}' \
  "$OCI_I" "$OCI_M" "$MA" "$MASIZE" "$OCI_M" "$MB" "$MBSIZE" >"$WORK/index-blob.json"
read -r IX IXSIZE < <(put_blob "$L2" "$WORK/index-blob.json")
write_index_json "$L2" "$OCI_I" "$IX" "$IXSIZE" v1

check "skopeo copy --all index -> berth alice/multi:v1" \
  run s2-push skopeo copy --all --dest-cert-dir "$CERTDIR" "oci:$L2:v1" "docker://$R/alice/multi:v1"
run s2-inspect-raw skopeo inspect --cert-dir "$CERTDIR" --raw "docker://$R/alice/multi:v1"
check "skopeo inspect --raw = index bytes" same "$LOGS/s2-inspect-raw.out" "$(blob "$L2" "$IX")"
run s2-inspect-raw-arm skopeo inspect --cert-dir "$CERTDIR" --raw "docker://$R/alice/multi@sha256:$MB"
check "skopeo inspect --raw @arm64-digest = arm64 manifest bytes" same "$LOGS/s2-inspect-raw-arm.out" "$(blob "$L2" "$MB")"
run s2-inspect-arm skopeo inspect --cert-dir "$CERTDIR" --override-os linux --override-arch arm64 --override-variant v8 "docker://$R/alice/multi:v1"
# (skopeo's Digest is that of the manifest the reference names: the index)
expect_eq "skopeo inspect (arm64): Digest is the index digest" "sha256:$IX" "$(out s2-inspect-arm | jq -r .Digest)"
expect_eq "skopeo inspect (arm64) resolves the arm64 image" "arm64 [\"sha256:$LB\"]" \
  "$(out s2-inspect-arm | jq -r .Architecture) $(out s2-inspect-arm | jq -c .Layers)"
run s2-inspect-amd skopeo inspect --cert-dir "$CERTDIR" --override-os linux --override-arch amd64 "docker://$R/alice/multi:v1"
expect_eq "skopeo inspect (amd64) resolves the amd64 image" "amd64 [\"sha256:$LA\"]" \
  "$(out s2-inspect-amd | jq -r .Architecture) $(out s2-inspect-amd | jq -c .Layers)"
curl -s --cacert "$CACERT" -I -H "Accept: $ACCEPT_ALL" -D "$LOGS/s2-head.hdr" -o /dev/null "$BASE/v2/alice/multi/manifests/v1"
expect_eq "HEAD index: Docker-Content-Digest" "sha256:$IX" "$(hdr "$LOGS/s2-head.hdr" Docker-Content-Digest)"
expect_eq "HEAD index: Content-Type" "$OCI_I" "$(hdr "$LOGS/s2-head.hdr" Content-Type)"

B2=$WORK/back2
check "skopeo copy --all berth -> new oci layout" \
  run s2-pull-oci skopeo copy --all --src-cert-dir "$CERTDIR" "docker://$R/alice/multi:v1" "oci:$B2:v1"
expect_eq "pulled layout references the index digest" "sha256:$IX" "$(layout_ref "$B2")"
ok=0
for h in "$IX" "$MA" "$MB" "$CA" "$CB" "$LA" "$LB"; do same "$(blob "$B2" "$h")" "$(blob "$L2" "$h")" || { ok=1; echo "  differs or missing: $h"; }; done
check "pulled layout: index, 2 manifests, 2 configs, 2 layers byte-identical" test $ok -eq 0
B2D=$WORK/back2dir
check "skopeo copy --all berth -> dir:" \
  run s2-pull-dir skopeo copy --all --src-cert-dir "$CERTDIR" "docker://$R/alice/multi:v1" "dir:$B2D"
check "dir: manifest.json = index bytes" same "$B2D/manifest.json" "$(blob "$L2" "$IX")"
check "dir: arm64 manifest and layer byte-identical" \
  bash -c "cmp -s '$B2D/$MB.manifest.json' '$(blob "$L2" "$MB")' && cmp -s '$B2D/$LB' '$(blob "$L2" "$LB")'"

# ================================================================ 3. inspect, list-tags, delete
echo "# 3. skopeo inspect, list-tags, delete"
L3=$WORK/l3
add_image "$L3" "another image" amd64
M3=$IMG_M
write_index_json "$L3" "$OCI_M" "$M3" "$IMG_MSIZE" other

check "push alice/tags:v1" run s3-push-v1 skopeo copy --dest-cert-dir "$CERTDIR" "oci:$L1:v1" "docker://$R/alice/tags:v1"
# registry-to-registry copies: the blobs are there, only the manifest is sent
check "skopeo copy berth -> berth (alice/tags:v2)" \
  run s3-push-v2 skopeo copy --src-cert-dir "$CERTDIR" --dest-cert-dir "$CERTDIR" "docker://$R/alice/tags:v1" "docker://$R/alice/tags:v2"
check "push alice/tags:latest" run s3-push-latest skopeo copy --dest-cert-dir "$CERTDIR" "oci:$L1:v1" "docker://$R/alice/tags:latest"
check "push alice/tags:a-first" run s3-push-a skopeo copy --dest-cert-dir "$CERTDIR" "oci:$L1:v1" "docker://$R/alice/tags:a-first"
check "push alice/tags:other (another image)" run s3-push-other skopeo copy --dest-cert-dir "$CERTDIR" "oci:$L3:other" "docker://$R/alice/tags:other"

run s3-inspect skopeo inspect --cert-dir "$CERTDIR" "docker://$R/alice/tags:v2"
expect_eq "skopeo inspect Digest" "sha256:$M1" "$(out s3-inspect | jq -r .Digest)"
expect_eq "skopeo inspect Name" "$R/alice/tags" "$(out s3-inspect | jq -r .Name)"
expect_eq "skopeo inspect RepoTags (sorted)" '["a-first","latest","other","v1","v2"]' "$(out s3-inspect | jq -c .RepoTags)"
expect_eq "skopeo inspect Layers" "[\"sha256:$LY1\"]" "$(out s3-inspect | jq -c .Layers)"
run s3-list skopeo list-tags --cert-dir "$CERTDIR" "docker://$R/alice/tags"
expect_eq "skopeo list-tags: sorted tags" '["a-first","latest","other","v1","v2"]' "$(out s3-list | jq -c .Tags)"
expect_eq "skopeo list-tags: Repository" "$R/alice/tags" "$(out s3-list | jq -r .Repository)"
run s3-list-multi skopeo list-tags --cert-dir "$CERTDIR" "docker://$R/alice/multi"
expect_eq "skopeo list-tags alice/multi" '["v1"]' "$(out s3-list-multi | jq -c .Tags)"

check "skopeo delete alice/tags:v2" run s3-delete skopeo delete --cert-dir "$CERTDIR" "docker://$R/alice/tags:v2"
run s3-list2 skopeo list-tags --cert-dir "$CERTDIR" "docker://$R/alice/tags"
expect_eq "after delete: only the other digest's tag is left" '["other"]' "$(out s3-list2 | jq -c .Tags)"
check "after delete: inspect alice/tags:v1 fails" bash -c "! timeout 120 skopeo inspect --cert-dir '$CERTDIR' 'docker://$R/alice/tags:v1' >/dev/null 2>&1"
code=$(curl -s --cacert "$CACERT" -o /dev/null -w '%{http_code}' -H "Accept: $ACCEPT_ALL" "$BASE/v2/alice/tags/manifests/sha256:$M1")
expect_eq "after delete: GET alice/tags manifest by digest" 404 "$code"
run s3-inspect-other skopeo inspect --cert-dir "$CERTDIR" "docker://$R/alice/tags:other"
expect_eq "after delete: alice/tags:other intact" "sha256:$M3" "$(out s3-inspect-other | jq -r .Digest)"
run s3-inspect-hello skopeo inspect --cert-dir "$CERTDIR" "docker://$R/alice/hello:v1"
expect_eq "after delete: alice/hello:v1 (same digest, other repo) intact" "sha256:$M1" "$(out s3-inspect-hello | jq -r .Digest)"
rm -rf "$WORK/back3dir"
check "after delete: alice/hello:v1 still pulls (blobs intact)" \
  run s3-pull-hello skopeo copy --src-cert-dir "$CERTDIR" "docker://$R/alice/hello:v1" "dir:$WORK/back3dir"
check "after delete: pulled layer byte-identical" same "$WORK/back3dir/$LY1" "$(blob "$L1" "$LY1")"

# ================================================================ 4. Docker schema2
echo "# 4. skopeo copy --format v2s2"
check "skopeo copy --format v2s2 -> alice/docker:v1" \
  run s4-push skopeo copy --format v2s2 --dest-cert-dir "$CERTDIR" "oci:$L1:v1" "docker://$R/alice/docker:v1"
run s4-inspect-raw skopeo inspect --cert-dir "$CERTDIR" --raw "docker://$R/alice/docker:v1"
expect_eq "v2s2 manifest mediaType" "$D2_M" "$(out s4-inspect-raw | jq -r .mediaType)"
expect_eq "v2s2 config mediaType" "$D2_C" "$(out s4-inspect-raw | jq -r .config.mediaType)"
expect_eq "v2s2 layer mediaType" "$D2_L" "$(out s4-inspect-raw | jq -r '.layers[0].mediaType')"
run s4-inspect skopeo inspect --cert-dir "$CERTDIR" "docker://$R/alice/docker:v1"
expect_eq "v2s2 Digest = sha256 of the raw manifest" \
  "sha256:$(sha256sum "$LOGS/s4-inspect-raw.out" | cut -d' ' -f1)" "$(out s4-inspect | jq -r .Digest)"
curl -s --cacert "$CACERT" -I -H "Accept: $ACCEPT_ALL" -D "$LOGS/s4-head.hdr" -o /dev/null "$BASE/v2/alice/docker/manifests/v1"
expect_eq "HEAD v2s2 manifest: Content-Type" "$D2_M" "$(hdr "$LOGS/s4-head.hdr" Content-Type)"
check "skopeo copy alice/docker:v1 -> dir:" \
  run s4-pull-dir skopeo copy --src-cert-dir "$CERTDIR" "docker://$R/alice/docker:v1" "dir:$WORK/back4dir"
check "v2s2 pulled manifest = the one in berth" same "$WORK/back4dir/manifest.json" "$LOGS/s4-inspect-raw.out"
check "v2s2 pulled layer byte-identical to the OCI one" same "$WORK/back4dir/$LY1" "$(blob "$L1" "$LY1")"

# ================================================================ 5. podman
if [[ $HAVE_PODMAN == 1 ]]; then
  echo "# 5. podman"
  check "podman pull alice/hello:v1" run p-pull podman pull --cert-dir "$CERTDIR" "$R/alice/hello:v1"
  run p-inspect podman image inspect "$R/alice/hello:v1"
  expect_eq "podman image Digest = pushed digest" "sha256:$M1" "$(out p-inspect | jq -r '.[0].Digest')"
  check "podman tag" run p-tag podman tag "$R/alice/hello:v1" "$R/alice/podman:v1"
  check "podman push alice/podman:v1" \
    run p-push podman push --cert-dir "$CERTDIR" --digestfile "$WORK/p-push.digest" "$R/alice/podman:v1"
  PD=$(cat "$WORK/p-push.digest" 2>/dev/null)
  run p-sk-inspect skopeo inspect --cert-dir "$CERTDIR" "docker://$R/alice/podman:v1"
  expect_eq "berth has podman's pushed digest" "$PD" "$(out p-sk-inspect | jq -r .Digest)"
  run p-rmi podman rmi -f "$R/alice/hello:v1" "$R/alice/podman:v1"
  check "podman pull by digest alice/podman@$PD" run p-pull-digest podman pull --cert-dir "$CERTDIR" "$R/alice/podman@$PD"
  run p-inspect2 podman image inspect "$R/alice/podman@$PD"
  expect_contains "podman image RepoDigests has the digest" "$R/alice/podman@$PD" "$(out p-inspect2 | jq -c '.[0].RepoDigests')"
  IMGID=$(out p-inspect2 | jq -r '.[0].Id')
  check "podman push --format v2s2 -> alice/podman-v2s2:v1" \
    run p-push-v2s2 podman push --format v2s2 --cert-dir "$CERTDIR" --digestfile "$WORK/p-push2.digest" \
    "$IMGID" "docker://$R/alice/podman-v2s2:v1"
  run p-v2s2-raw skopeo inspect --cert-dir "$CERTDIR" --raw "docker://$R/alice/podman-v2s2:v1"
  expect_eq "podman v2s2 manifest mediaType" "$D2_M" "$(out p-v2s2-raw | jq -r .mediaType)"
  expect_eq "podman v2s2 digest = digest in berth" \
    "$(cat "$WORK/p-push2.digest" 2>/dev/null)" "sha256:$(sha256sum "$LOGS/p-v2s2-raw.out" | cut -d' ' -f1)"
  check "podman pull --arch arm64 alice/multi:v1" \
    run p-pull-arm podman pull --arch arm64 --variant v8 --cert-dir "$CERTDIR" "$R/alice/multi:v1"
  run p-inspect-arm podman image inspect "$R/alice/multi:v1"
  expect_eq "podman picked the arm64 image from the index" "arm64" "$(out p-inspect-arm | jq -r '.[0].Architecture')"
  expect_eq "podman image Digest is the index digest" "sha256:$IX" "$(out p-inspect-arm | jq -r '.[0].Digest')"
  expect_contains "podman RepoDigests has the arm64 manifest digest" "$R/alice/multi@sha256:$MB" \
    "$(out p-inspect-arm | jq -c '.[0].RepoDigests')"
fi

# ================================================================ 6. buildah
if [[ $HAVE_BUILDAH == 1 ]]; then
  echo "# 6. buildah"
  echo "built by buildah $PORT" >"$WORK/b.txt"
  if check "buildah from scratch" run b-from buildah from scratch; then
    c=$(out b-from | tail -1)
    check "buildah copy" run b-copy buildah copy "$c" "$WORK/b.txt" /b.txt
    run b-config buildah config --cmd /b.txt "$c"
    check "buildah commit" run b-commit buildah commit -q "$c" localhost/alice/built:v1
    run b-rm buildah rm "$c"
  fi
  check "buildah push -> alice/built:v1" \
    run b-push buildah push --cert-dir "$CERTDIR" --digestfile "$WORK/b-push.digest" localhost/alice/built:v1 "docker://$R/alice/built:v1"
  run b-sk-inspect skopeo inspect --cert-dir "$CERTDIR" "docker://$R/alice/built:v1"
  expect_eq "berth has buildah's pushed digest" "$(cat "$WORK/b-push.digest" 2>/dev/null)" "$(out b-sk-inspect | jq -r .Digest)"
  run b-rmi buildah rmi -f localhost/alice/built:v1
  check "buildah pull alice/built:v1" run b-pull buildah pull --cert-dir "$CERTDIR" "$R/alice/built:v1"
  if check "buildah from the pulled image" run b-from2 buildah from "$R/alice/built:v1"; then
    c2=$(out b-from2 | tail -1)
    if run b-mount buildah mount "$c2"; then
      expect_eq "pulled image has the copied file" "built by buildah $PORT" "$(cat "$(out b-mount | tail -1)/b.txt" 2>/dev/null)"
      run b-umount buildah umount "$c2"
    else
      fail "buildah mount"
    fi
    run b-rm2 buildah rm "$c2"
  fi
fi

# ---------------------------------------------------------------- report
echo "# timings"
printf '  %s\n' "${TIMINGS[@]}"
if grep -qiE '\b(error|fatal)\b' "$WORK/root.log"; then
  echo "# berth log errors:"
  grep -iE '\b(error|fatal)\b' "$WORK/root.log" | tail -n 10 | sed 's/^/  /'
fi
if [[ $FAILED -gt 0 ]]; then
  echo "# client logs: $LOGS, berth log: $WORK/root.log$([[ ${KEEP_WORK:-0} == 1 ]] || echo ' (set KEEP_WORK=1 to keep them)')"
fi
summary
