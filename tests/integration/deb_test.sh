#!/usr/bin/env bash
# The Debian package (packaging/build-deb.sh, make deb), installed into a
# fresh Debian 12 and serving:
#   - built around the binary under test ($BERTH_BIN, the one `make test`
#     built: no second compile), or the .deb named by DEB_TEST_PACKAGE (e.g. the
#     output of make deb); its contents and control fields;
#   - lintian: no errors, no warnings;
#   - a fresh `debootstrap --variant=minbase bookworm` root (scripts/chroot-lib.sh),
#     `apt-get install ./berth_*.deb` there, so its Depends resolve from the
#     archive; the maintainer scripts make user berth, /var/lib/berth, and
#     enable berth.service only;
#   - berth started as the unit would start it: ExecStart and User= read from
#     the installed berth.service, run with runuser in the root, with the
#     installed /etc/berth/berth.yaml, ports moved off the defaults and both
#     listeners on 127.0.0.1 via BERTH_* variables; /readyz on both ports from
#     the host; a user added with the installed binary logs in and pushes and
#     pulls one image with skopeo from the host;
#   - SIGTERM stops it (exit 0); remove and purge leave the images.
# Needs root, debootstrap, lintian, dpkg-dev, help2man, skopeo and the Debian
# archive (scripts/install-deps.sh --test). About 3 minutes, most of it
# debootstrap and apt.
source "$(dirname "$0")/lib.sh"
source "$TOP/scripts/chroot-lib.sh"
source "$HERE/oci.sh"

note() { echo "# $*"; }
if [[ $(id -u) != 0 ]]; then
  note "SKIP: needs root (debootstrap, chroot)"
  summary
  exit
fi
for c in debootstrap lintian dpkg-shlibdeps help2man skopeo; do
  command -v "$c" >/dev/null || { fail "$c is installed (scripts/install-deps.sh --test)"; summary; exit; }
done

ROOT=$WORK/root
BERTH_IN_ROOT_PID=""
deb_cleanup() {
  chroot_destroy "$ROOT"
  cleanup
}
# The root goes before the summary, which searches $WORK for sanitizer
# reports (and must not walk the root's /proc).
finish() {
  chroot_destroy "$ROOT"
  summary
  exit
}
trap deb_cleanup EXIT
t_start=$SECONDS

# ------------------------------------------------------------------ the package
if [[ -n ${DEB_TEST_PACKAGE:-} ]]; then
  note "the package $DEB_TEST_PACKAGE (DEB_TEST_PACKAGE)"
  deb=$(realpath "$DEB_TEST_PACKAGE")
  check "DEB_TEST_PACKAGE exists" test -f "$deb"
else
  note "build the package around $BERTH_BIN"
  deb=$("$TOP/packaging/build-deb.sh" --binary "$BERTH_BIN" --out "$WORK/out" 2>"$WORK/build-deb.err" | tail -1)
  check "packaging/build-deb.sh builds berth_<version>_amd64.deb" test -f "$deb"
fi
[[ -f $deb ]] || { cat "$WORK/build-deb.err" 2>/dev/null; finish; }
upstream=$(sed -n 's/^project(berth VERSION \([0-9.]*\).*/\1/p' "$TOP/CMakeLists.txt")
expect_contains "file name carries the CMake project version" "berth_${upstream}-" "$(basename "$deb")"

contents=$(dpkg-deb -c "$deb" | awk '{ print $1, $2, $6 }')
for f in ./usr/bin/berth ./lib/systemd/system/berth.service ./lib/systemd/system/berth-registry.service \
  ./lib/systemd/system/berth-token.service ./usr/lib/sysusers.d/berth.conf ./etc/berth/berth.yaml \
  ./usr/share/man/man1/berth.1.gz ./usr/share/doc/berth/copyright ./usr/share/doc/berth/changelog.Debian.gz; do
  expect_contains "package holds $f (root:root)" "root/root $f" "$contents"
done
expect_eq "/etc/berth/berth.yaml is a conffile" "/etc/berth/berth.yaml" \
  "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 libssl3 libsqlite3-0 libyaml-cpp0.7 libspdlog1.10 libpq5 libcurl4 libexpat1 'systemd | systemd-standalone-sysusers'; do
  expect_contains "Depends names $lib" "$lib" "$depends"
done
mkdir -p "$WORK/x"
dpkg-deb -x "$deb" "$WORK/x"
check "the binary is stripped (no .debug_info, no .symtab)" \
  bash -c "! readelf -S '$WORK/x/usr/bin/berth' | grep -qE '\\.debug_info|\\.symtab'"
check "the man page describes the subcommands (berth serve, berth user)" \
  bash -c "zcat '$WORK/x/usr/share/man/man1/berth.1.gz' | grep -q 'berth serve' &&
           zcat '$WORK/x/usr/share/man/man1/berth.1.gz' | grep -q 'berth user'"
expect_eq "default config: storage.root /var/lib/berth" "  root: /var/lib/berth" \
  "$(grep -x '  root: .*' "$WORK/x/etc/berth/berth.yaml")"

note "lintian"
lint=$(timeout 300 lintian --fail-on error,warning --display-info "$deb" 2>&1)
rc=$?
[[ -n $lint ]] && echo "$lint" | sed 's/^/#   /'
expect_eq "lintian: exit 0" 0 "$rc"
expect_eq "lintian: no error or warning tags" "" "$(echo "$lint" | grep -E '^(E|W): ')"

# ------------------------------------------------------- install in a fresh root
note "debootstrap --variant=minbase bookworm"
t0=$SECONDS
chroot_create "$ROOT" >"$WORK/debootstrap.log" 2>&1
check "debootstrap a fresh minbase root ($((SECONDS - t0)) s)" test -x "$ROOT/usr/bin/apt-get"
[[ -x $ROOT/usr/bin/apt-get ]] || { tail -20 "$WORK/debootstrap.log"; finish; }
chroot_mount "$ROOT"
cp "$deb" "$ROOT/tmp/"
t0=$SECONDS
out=$(CHROOT_ENV=DEBIAN_FRONTEND=noninteractive CHROOT_TIMEOUT=600 chroot_run "$ROOT" bash -c \
  "apt-get update -qq && apt-get install -y --no-install-recommends /tmp/$(basename "$deb")" 2>&1)
rc=$?
expect_eq "apt-get install ./$(basename "$deb") in the root: exit 0 ($((SECONDS - t0)) s)" 0 "$rc"
((rc)) && echo "$out" | tail -20
expect_eq "dpkg: berth is installed" "install ok installed" \
  "$(chroot_run "$ROOT" dpkg-query -W -f='${Status}' berth 2>&1)"
passwd_line=$(chroot_run "$ROOT" getent passwd berth)
expect_contains "postinst made the system user berth (home /var/lib/berth, nologin)" \
  ":/var/lib/berth:/usr/sbin/nologin" "$passwd_line"
expect_eq "postinst made /var/lib/berth, berth:berth 0750" "berth:berth 750" \
  "$(chroot_run "$ROOT" stat -c '%U:%G %a' /var/lib/berth 2>&1)"
check "berth.service is enabled (multi-user.target.wants)" \
  test -L "$ROOT/etc/systemd/system/multi-user.target.wants/berth.service"
check "berth-registry and berth-token are not enabled" bash -c "
  ! test -e '$ROOT/etc/systemd/system/multi-user.target.wants/berth-registry.service' &&
  ! test -e '$ROOT/etc/systemd/system/multi-user.target.wants/berth-token.service'"
expect_contains "the installed man page opens (man -l)" "berth" \
  "$(zcat "$ROOT/usr/share/man/man1/berth.1.gz" | head -5)"

# ------------------------------------------------- start it as the unit would
UNIT=$ROOT/lib/systemd/system/berth.service
exec_start=$(sed -n 's/^ExecStart=//p' "$UNIT")
unit_user=$(sed -n 's/^User=//p' "$UNIT")
expect_eq "berth.service: ExecStart" "/usr/bin/berth serve --config /etc/berth/berth.yaml" "$exec_start"
expect_eq "berth.service: User" "berth" "$unit_user"
RP=$(free_port)
TP=$(free_port)
PORTS_ENV="BERTH_REGISTRY_ADDR=127.0.0.1 BERTH_REGISTRY_PORT=$RP BERTH_TOKEN_ADDR=127.0.0.1 BERTH_TOKEN_PORT=$TP
  BERTH_AUTH_REALM=https://127.0.0.1:$TP/token"
# shellcheck disable=SC2086 # ExecStart is split at spaces, as systemd does here
CHROOT_ENV=$PORTS_ENV chroot_run "$ROOT" runuser -u "$unit_user" -- $exec_start >"$WORK/berth.log" 2>&1 &
BERTH_IN_ROOT_PID=$!
CERT=$ROOT/var/lib/berth/keys/tls.crt
code() { curl -s -o /dev/null -w '%{http_code}' --noproxy '*' --max-time 5 --cacert "$CERT" "$1"; }
ready=""
for _ in $(seq 1 150); do
  if [[ -f $CERT && $(code "https://127.0.0.1:$RP/readyz") == 200 && $(code "https://127.0.0.1:$TP/readyz") == 200 ]]; then
    ready=yes
    break
  fi
  kill -0 "$BERTH_IN_ROOT_PID" 2>/dev/null || break
  sleep 0.2
done
expect_eq "the unit's command as user berth: registry and token /readyz 200 (TLS verified)" yes "$ready"
[[ -z $ready ]] && tail -20 "$WORK/berth.log"
# The berth process in the root (runuser is its parent).
berth_pid() {
  local p
  for p in $(chroot_pids "$ROOT"); do
    [[ $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) == "/usr/bin/berth serve "* ]] && echo "$p" && return
  done
}
bpid=$(berth_pid)
check "a process /usr/bin/berth serve runs in the root" test -n "$bpid"
expect_eq "berth runs as user berth" "$(chroot_run "$ROOT" id -u berth)" \
  "$(awk '/^Uid:/{print $2}' "/proc/${bpid:-0}/status" 2>/dev/null)"
expect_eq "the generated TLS key is berth's and private" "berth 600" \
  "$(chroot_run "$ROOT" stat -c '%U %a' /var/lib/berth/keys/tls.key 2>&1)"

out=$(echo 'debtest-pass-1' | chroot_run "$ROOT" runuser -u berth -- \
  berth user add admin --password-stdin --config /etc/berth/berth.yaml 2>&1)
expect_eq "berth user add admin (as berth, installed config): exit 0" 0 $?
# The token server notices the changed user file within a second.
login=""
for _ in $(seq 1 50); do
  login=$(curl -s -o /dev/null -w '%{http_code}' --noproxy '*' --max-time 5 --cacert "$CERT" \
    -u admin:debtest-pass-1 "https://127.0.0.1:$TP/token?service=berth&scope=repository:admin/hello:push")
  [[ $login == 200 ]] && break
  sleep 0.1
done
expect_eq "the token server takes the new user's password" 200 "$login"
use_private_container_config
mkdir -p "$WORK/tmp" "$WORK/certs"
cp "$CERT" "$WORK/certs/ca.crt"
digest=$(make_oci "$WORK/image" v1 "hello from the Debian package")
check "skopeo copy to the packaged berth as admin (token from its token server)" \
  timeout 120 skopeo copy --quiet --dest-cert-dir "$WORK/certs" --dest-creds admin:debtest-pass-1 \
  "oci:$WORK/image:v1" "docker://127.0.0.1:$RP/admin/hello:v1"
timeout 120 skopeo copy --quiet --src-cert-dir "$WORK/certs" --src-creds admin:debtest-pass-1 \
  "docker://127.0.0.1:$RP/admin/hello:v1" "oci:$WORK/pulled:v1" >/dev/null 2>&1
expect_eq "skopeo pulls the same manifest back" "$digest" \
  "$(jq -r '.manifests[0].digest' "$WORK/pulled/index.json" 2>/dev/null)"
check "a wrong password is refused" bash -c "! timeout 60 skopeo copy --quiet --dest-cert-dir '$WORK/certs' \
  --dest-creds admin:wrong 'oci:$WORK/image:v1' 'docker://127.0.0.1:$RP/admin/other:v1' 2>/dev/null"

# SIGTERM to berth, as systemd's KillSignal: it drains and exits 0 (runuser
# passes its status on).
[[ -n $bpid ]] && kill -TERM "$bpid"
for _ in $(seq 1 200); do
  kill -0 "$BERTH_IN_ROOT_PID" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$BERTH_IN_ROOT_PID" 2>/dev/null && chroot_stop "$ROOT" 5
wait "$BERTH_IN_ROOT_PID"
expect_eq "SIGTERM: berth exits 0" 0 $?
expect_contains "... after a graceful stop" "signal 15 received" "$(cat "$WORK/berth.log")"

# ---------------------------------------------------------------- remove, purge
out=$(CHROOT_ENV=DEBIAN_FRONTEND=noninteractive CHROOT_TIMEOUT=120 chroot_run "$ROOT" apt-get purge -y berth 2>&1)
expect_eq "apt-get purge berth: exit 0" 0 $?
check "purge removes the binary, the units and /etc/berth" bash -c "
  ! test -e '$ROOT/usr/bin/berth' && ! test -e '$ROOT/lib/systemd/system/berth.service' &&
  ! test -e '$ROOT/etc/berth/berth.yaml' &&
  ! test -e '$ROOT/etc/systemd/system/multi-user.target.wants/berth.service'"
check "purge keeps the images in /var/lib/berth" test -d "$ROOT/var/lib/berth/blobs"

note "deb_test took $((SECONDS - t_start)) s"
finish
