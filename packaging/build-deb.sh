#!/usr/bin/env bash
# Builds the Debian package berth_<version>_amd64.deb (make deb), without a
# source package and without debian/rules: this script does what dh would
# for one binary, with the files under packaging/debian/.
#
#   packaging/build-deb.sh [--binary PATH] [--out DIR]
#
# Without --binary it builds `berth` in build-deb/ with Debian's hardening
# flags (dpkg-buildflags, hardening=+all) and without the tests. With
# --binary it packages that binary instead (tests/integration/deb_test.sh
# reuses the one `make test` built). Prints the path of the .deb last.
#
# The package: /usr/bin/berth (stripped: no debug symbols), the units of
# deploy/systemd in /lib/systemd/system (berth.service enabled and started on
# install; berth-registry and berth-token disabled), the sysusers.d file, the
# default configuration /etc/berth/berth.yaml (a conffile: what `berth init`
# writes, with storage.root /var/lib/berth), the manual page berth(1)
# generated from --help by help2man, the README, copyright and changelog.
set -euo pipefail
umask 022
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"

binary=""
out=$TOP
while (($#)); do
  case $1 in
    --binary) binary=$(realpath "$2"); shift 2 ;;
    --out) out=$(realpath "$2"); shift 2 ;;
    *) echo "usage: $0 [--binary PATH] [--out DIR]" >&2; exit 2 ;;
  esac
done

# The upstream version is CMake's project version; the changelog adds the
# Debian revision. They must agree.
upstream=$(sed -n 's/^project(berth VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
version=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
if [[ ${version%-*} != "$upstream" ]]; then
  echo "build-deb: packaging/debian/changelog says $version, CMakeLists.txt says $upstream:" >&2
  echo "  add a changelog entry (dch -v $upstream-1 -c packaging/debian/changelog)" >&2
  exit 1
fi
arch=$(dpkg --print-architecture)

if [[ -z $binary ]]; then
  echo "build-deb: building berth $upstream with Debian's hardening flags in build-deb/"
  # CMake reads CXXFLAGS and LDFLAGS at its first configure; CPPFLAGS it
  # ignores, so _FORTIFY_SOURCE goes in with CXXFLAGS.
  eval "$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --export=sh)"
  export CXXFLAGS="$CXXFLAGS $CPPFLAGS" LDFLAGS
  cmake -S . -B build-deb -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBERTH_TESTS=OFF >/dev/null
  cmake --build build-deb -j "$(nproc)" --target berth
  binary=$TOP/build-deb/src/berth
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/berth-deb.XXXXXX")
trap 'rm -rf "$W"' EXIT
P=$W/pkg
mkdir -p "$W/debian" "$P/DEBIAN"
cp packaging/debian/control packaging/debian/changelog "$W/debian/"

install -D -m 0755 "$binary" "$P/usr/bin/berth"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$P/usr/bin/berth"

for unit in berth.service berth-registry.service berth-token.service; do
  install -D -m 0644 "deploy/systemd/$unit" "$P/lib/systemd/system/$unit"
done
install -D -m 0644 deploy/systemd/berth.sysusers.conf "$P/usr/lib/sysusers.d/berth.conf"

# /etc/berth/berth.yaml: the file `berth init` writes, storage under /var/lib/berth.
mkdir -p "$W/init"
# A clean environment: BERTH_* variables of the caller must not reach it.
(cd "$W/init" && env -i PATH="$PATH" "$binary" init --config berth.yaml >init.log 2>&1) ||
  { cat "$W/init/init.log" >&2; echo "build-deb: berth init failed" >&2; exit 1; }
mkdir -p "$P/etc/berth"
{
  echo "# /etc/berth/berth.yaml, installed by the berth Debian package (a conffile:"
  echo "# your changes are kept on upgrade). The units run berth as user berth with"
  echo "# this file; restart them after a change (SIGHUP reloads only TLS)."
  sed 's|^  root: .*|  root: /var/lib/berth|' "$W/init/berth.yaml"
} >"$P/etc/berth/berth.yaml"
chmod 0644 "$P/etc/berth/berth.yaml"
grep -qx '  root: /var/lib/berth' "$P/etc/berth/berth.yaml" ||
  { echo "build-deb: could not set storage.root in the default configuration" >&2; exit 1; }

# berth(1): the top-level --help, then every subcommand's. Run as plain
# `berth` from PATH: the usage lines print argv[0].
mkdir -p "$W/bin"
ln -s "$binary" "$W/bin/berth"
{
  echo "[COMMANDS]"
  echo "Each command below accepts \\fB\\-\\-help\\fR; its output follows."
  for sub in serve registry token init user revoke-tokens fsck "images list" "images tags" \
    "images delete" gc usage; do
    echo ".SS \"berth $sub\""
    echo ".nf"
    # shellcheck disable=SC2086 # "images list" is two words
    PATH=$W/bin:$PATH berth $sub --help | sed -e 's/\\/\\e/g' -e "s/^[.']/\\\\\\&&/" -e 's/-/\\-/g'
    echo ".fi"
  done
  cat <<'EOF'
[FILES]
.TP
.I /etc/berth/berth.yaml
The configuration the systemd units use. Every key can also be set in the
environment as BERTH_<SECTION>_<KEY>, which wins over the file.
.TP
.I /var/lib/berth
The storage root (storage.root): blobs, uploads, metadata.db, the user file
htpasswd and keys/ with the TLS certificate and the token key, generated on
first start.
.TP
.I /lib/systemd/system/berth.service
Runs \fBberth serve\fR as user berth. \fBberth\-registry.service\fR and
\fBberth\-token.service\fR run the two halves apart instead.
[EXIT STATUS]
0 on success, 1 on failure, 2 for a bad configuration or command line.
[SEE ALSO]
The README in /usr/share/doc/berth.
EOF
} >"$W/berth.h2m"
help2man --no-info --section=1 --version-string="$upstream" \
  --name="private container registry and Docker token server" \
  --include="$W/berth.h2m" --output="$W/berth.1" "$W/bin/berth"
install -d "$P/usr/share/man/man1"
gzip -9n <"$W/berth.1" >"$P/usr/share/man/man1/berth.1.gz"

D=$P/usr/share/doc/berth
install -d "$D"
install -m 0644 packaging/debian/copyright "$D/copyright"
gzip -9n <packaging/debian/changelog >"$D/changelog.Debian.gz"
gzip -9n <README.md >"$D/README.md.gz"
install -D -m 0644 packaging/debian/lintian-overrides "$P/usr/share/lintian/overrides/berth"
chmod 0644 "$D"/*.gz "$P/usr/share/man/man1/berth.1.gz"

for f in postinst prerm postrm; do install -m 0755 "packaging/debian/$f" "$P/DEBIAN/$f"; done
install -m 0644 packaging/debian/conffiles "$P/DEBIAN/conffiles"

# Control file: shared-library dependencies from the binary, the sysusers
# tool as debhelper's dh_installsysusers adds it.
(
  cd "$W"
  dpkg-shlibdeps -Tdebian/substvars "$P/usr/bin/berth"
  echo 'misc:Depends=systemd | systemd-standalone-sysusers | systemd-sysusers' >>debian/substvars
  dpkg-gencontrol -pberth -P"$P" -Tdebian/substvars -fdebian/files
)
(cd "$P" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
  xargs -0 md5sum | grep -v ' etc/' >DEBIAN/md5sums)
chmod 0644 "$P/DEBIAN/control" "$P/DEBIAN/md5sums"

mkdir -p "$out"
deb=$out/berth_${version}_${arch}.deb
# Timestamps from the changelog: the same inputs give the same .deb.
SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l packaging/debian/changelog -S Timestamp) \
  dpkg-deb --root-owner-group -Zxz --build "$P" "$deb" >/dev/null
echo "$deb"
