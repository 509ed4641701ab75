#!/usr/bin/env bash
# make bare-machine: the README's first command on a bare Debian 12, checked
# end to end and timed. In a fresh `debootstrap --variant=minbase
# --include=git bookworm` root (nothing else installed: no make, no compiler)
# it clones this repository's committed HEAD, runs `./berth.sh run` as root
# with the ports moved off the defaults and both listeners on 127.0.0.1,
# waits for https://127.0.0.1:PORT/readyz from the host, pushes and pulls one
# image with skopeo from the host as the admin whose password `berth init`
# printed, then stops berth and removes the root. Prints the elapsed times of
# debootstrap, the package install, the build and the first /readyz.
#
# Needs root, network access to the Debian archive, debootstrap, git, curl,
# skopeo (make bare-machine installs them). Slow (minutes), so not part of
# make test. Knobs:
#   BARE_DIR      where the root goes (default /var/tmp; needs ~1.5 GB)
#   BARE_TIMEOUT  seconds allowed from the start of `./berth.sh run` to /readyz (default 2400)
#   BARE_REGISTRY_PORT, BARE_TOKEN_PORT  (default 19001, 19002)
#   KEEP_ROOT=1   keep the root for a look afterwards (mounts are still removed)
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=chroot-lib.sh
source "$TOP/scripts/chroot-lib.sh"

die() { echo "bare-machine: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "needs root (debootstrap and chroot)"
for c in debootstrap git curl skopeo; do
  command -v "$c" >/dev/null || die "$c is missing (make bare-machine installs it)"
done

RP=${BARE_REGISTRY_PORT:-19001}
TP=${BARE_TOKEN_PORT:-19002}
LIMIT=${BARE_TIMEOUT:-2400}
WORK=$(mktemp -d "${BARE_DIR:-/var/tmp}/berth-bare.XXXXXX")
ROOT=$WORK/root
LOG=$WORK/run.log
finish() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ ${KEEP_ROOT:-0} == 1 ]]; then
    chroot_stop "$ROOT" 15
    for m in $(findmnt -rn -o TARGET | grep -F "$ROOT/" | sort -r); do umount "$m" || umount -l "$m"; done
    echo "bare-machine: kept $WORK"
  else
    chroot_destroy "$ROOT" && rm -rf "$WORK"
  fi
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

for p in "$RP" "$TP"; do
  curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$p/" && die "port $p is in use on this host"
done
if [[ -n $(git -C "$TOP" status --porcelain --untracked-files=no) ]]; then
  echo "bare-machine: note: uncommitted changes are not tested (the root gets the committed HEAD)"
fi

now() { echo "$EPOCHREALTIME"; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

echo "bare-machine: [1/5] debootstrap --variant=minbase --include=git bookworm (in $WORK)"
t0=$(now)
chroot_create "$ROOT" --include=git >"$WORK/debootstrap.log" 2>&1 ||
  { tail -20 "$WORK/debootstrap.log"; die "debootstrap failed"; }
t_boot=$(now)
echo "bare-machine: debootstrap took $(secs "$t0" "$t_boot") s"

echo "bare-machine: [2/5] git clone of the committed HEAD ($(git -C "$TOP" rev-parse --short HEAD))"
if ! git clone -q --no-hardlinks "$TOP" "$ROOT/root/berth" ||
  ! git -C "$ROOT/root/berth" checkout -q "$(git -C "$TOP" rev-parse HEAD)"; then
  die "git clone failed"
fi
chroot_mount "$ROOT"

# The command a user types, with the listeners moved to 127.0.0.1 and free
# ports; the token realm follows (it defaults to the host name and 9002).
echo "bare-machine: [3/5] ./berth.sh run, as root in the root (each line: seconds since its start)"
# shellcheck disable=SC2034 # read by chroot_run
CHROOT_ENV="BERTH_REGISTRY_ADDR=127.0.0.1 BERTH_REGISTRY_PORT=$RP BERTH_TOKEN_ADDR=127.0.0.1
  BERTH_TOKEN_PORT=$TP BERTH_AUTH_REALM=https://127.0.0.1:$TP/token"
t_run=$(now)
(
  chroot_run "$ROOT" bash -c 'cd /root/berth && exec ./berth.sh run' 2>&1 |
    while IFS= read -r line; do
      printf '%6.1f %s\n' "$(awk -v a="$t_run" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')" "$line"
    done | tee "$LOG"
) &
runner=$!

# Marks in the log: install-deps.sh's last line, then the link of berth.
mark() { awk -v re="$1" '$0 ~ re { print $1; exit }' "$LOG"; }
CERT=$ROOT/root/berth/data/keys/tls.crt
ready=""
deadline=$(($(date +%s) + LIMIT))
while (($(date +%s) < deadline)); do
  if [[ -f $CERT ]] && [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$CERT" \
    "https://127.0.0.1:$RP/readyz") == 200 ]]; then
    ready=$(now)
    break
  fi
  kill -0 "$runner" 2>/dev/null || break
  sleep 0.5
done
[[ -n $ready ]] || die "no /readyz 200 on 127.0.0.1:$RP within $LIMIT s (log: $LOG)"
echo "bare-machine: [4/5] https://127.0.0.1:$RP/readyz answered 200"

password=$(sed -n 's/^ *[0-9.]* *password: *\([^ ]*\).*/\1/p' "$LOG" | head -1)
[[ -n $password ]] || die "no admin password in the output of ./berth.sh run"
source "$TOP/tests/integration/oci.sh"
use_private_container_config
mkdir -p "$WORK/tmp" "$WORK/certs"
cp "$CERT" "$WORK/certs/ca.crt"
digest=$(make_oci "$WORK/image" v1 "hello from a bare machine")
ok=1
timeout 120 skopeo copy --quiet --dest-cert-dir "$WORK/certs" --dest-creds "admin:$password" \
  "oci:$WORK/image:v1" "docker://127.0.0.1:$RP/admin/hello:v1" || ok=0
timeout 120 skopeo copy --quiet --src-cert-dir "$WORK/certs" --src-creds "admin:$password" \
  "docker://127.0.0.1:$RP/admin/hello:v1" "oci:$WORK/pulled:v1" || ok=0
pulled=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' \
  "$WORK/pulled/index.json" 2>/dev/null)
[[ $ok == 1 && $pulled == "$digest" ]] || die "push/pull failed (pushed $digest, pulled '${pulled:-nothing}')"
echo "bare-machine: [5/5] skopeo pushed and pulled admin/hello:v1 as admin ($digest)"

t_build=$(mark 'berth: packages installed')
t_built=$(mark 'Built target berth$')
stop_t=$(now)
chroot_stop "$ROOT" 20
wait "$runner" 2>/dev/null
echo
echo "bare-machine: times ($(nproc) CPUs, $(free -g | awk '/^Mem:/ { print $2 }') GB here)"
row() { printf '  %-40s %5s s\n' "$1" "$2"; }
ready_s=$(secs "$t_run" "$ready")
row "debootstrap (minbase + git)" "$(secs "$t0" "$t_boot")"
row "./berth.sh run: install packages" "$(printf '%.1f' "${t_build:-0}")"
row "./berth.sh run: configure, build berth" "$(secs "${t_build:-0}" "${t_built:-0}")"
row "./berth.sh run: init, serve, /readyz" "$(secs "${t_built:-0}" "$ready_s")"
row "./berth.sh run to first /readyz 200" "$ready_s"
row "bare root to first /readyz 200" "$(secs "$t0" "$ready")"
row "stop (SIGTERM)" "$(secs "$stop_t" "$(now)")"
echo "bare-machine: ok"
