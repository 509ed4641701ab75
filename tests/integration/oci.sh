# Helpers for tests that drive real container clients. Source after lib.sh.

# use_private_container_config: podman, buildah and skopeo with vfs storage,
# no engine and an empty auth file, all under $WORK, so nothing in /etc or
# $HOME is read or changed.
use_private_container_config() {
cat >"$WORK/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$WORK/graph"
runroot = "$WORK/run"
EOF
cat >"$WORK/containers.conf" <<EOF
[engine]
events_logger = "none"
tmp_dir = "$WORK/libpod-tmp"
lock_type = "file"
cgroup_manager = "cgroupfs"
[network]
network_config_dir = "$WORK/networks"
EOF
printf 'unqualified-search-registries = []\nshort-name-mode = "permissive"\n' >"$WORK/registries.conf"
echo '{}' >"$WORK/auth.json"
export CONTAINERS_STORAGE_CONF=$WORK/storage.conf CONTAINERS_CONF=$WORK/containers.conf \
  CONTAINERS_REGISTRIES_CONF=$WORK/registries.conf REGISTRY_AUTH_FILE=$WORK/auth.json \
  TMPDIR=$WORK/tmp
}

# make_oci DIR TAG TEXT: a minimal one-layer OCI image layout (deterministic);
# prints the manifest digest. (test-peers.md's make_oci.sh, inlined.)
make_oci() {
  local D=$1 TAG=$2 TEXT=$3 W DIFFID LDIG LSIZE CDIG CSIZE MDIG MSIZE
  rm -rf "$D"
  mkdir -p "$D/blobs/sha256"
  W=$(mktemp -d "$WORK/mk.XXXXXX")
  mkdir "$W/root"
  printf '%s\n' "$TEXT" >"$W/root/hello.txt"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$W/root" -cf "$W/layer.tar" hello.txt
  gzip -n -9 -c "$W/layer.tar" >"$W/layer.tar.gz"
  DIFFID=$(sha256sum "$W/layer.tar" | cut -d' ' -f1)
  LDIG=$(sha256sum "$W/layer.tar.gz" | cut -d' ' -f1)
  LSIZE=$(stat -c %s "$W/layer.tar.gz")
  cp "$W/layer.tar.gz" "$D/blobs/sha256/$LDIG"
  printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$DIFFID" >"$W/config.json"
  CDIG=$(sha256sum "$W/config.json" | cut -d' ' -f1)
  CSIZE=$(stat -c %s "$W/config.json")
  cp "$W/config.json" "$D/blobs/sha256/$CDIG"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%d}]}' \
    "$CDIG" "$CSIZE" "$LDIG" "$LSIZE" >"$W/manifest.json"
  MDIG=$(sha256sum "$W/manifest.json" | cut -d' ' -f1)
  MSIZE=$(stat -c %s "$W/manifest.json")
  cp "$W/manifest.json" "$D/blobs/sha256/$MDIG"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
    "$MDIG" "$MSIZE" "$TAG" >"$D/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$D/oci-layout"
  rm -rf "$W"
  echo "sha256:$MDIG"
}

# Command helpers shared by the client tests. A script defines run LABEL
# CMD... (which writes $LOGS/LABEL.out and .err) and sets $LOGS and $CACERT.

# run_ok LABEL CMD...: like run, prints the end of stderr when CMD fails.
run_ok() {
  run "$@"
  local rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "  [$1: rc=$rc]"
    tail -n 4 "$LOGS/$1.err" | sed 's/^/  | /'
  fi
  return $rc
}
out() { cat "$LOGS/$1.out" 2>/dev/null; }
err() { cat "$LOGS/$1.err" 2>/dev/null; }
# denied RC LABEL: the command failed and said why ("denied" or "unauthorized")
denied() {
  local rc=$1 label=$2
  [[ $rc -ne 0 ]] && grep -qiE 'denied|unauthorized' "$LOGS/$label.err"
}

hdr() { tr -d '\r' <"$1" | awk -F': ' -v h="$(echo "$2" | tr '[:upper:]' '[:lower:]')" 'tolower($1)==h{sub(/^[^:]*: /,""); print}' | tail -1; }

need() {
  if ! command -v "$1" >/dev/null; then fail "$1 is installed (apt-get install $1)"; return 1; fi
}

c() { curl -s --max-time 30 --cacert "$CACERT" "$@"; }
