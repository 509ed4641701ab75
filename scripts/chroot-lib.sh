# shellcheck shell=bash
# Helpers for a throw-away Debian 12 root made by debootstrap, shared by
# scripts/bare-machine.sh and tests/integration/deb_test.sh. Source it; do not
# run it. Needs root and debootstrap. Nothing is cached: every root is fresh.
#
#   chroot_create ROOT [debootstrap options]   debootstrap --variant=minbase bookworm ROOT
#   chroot_mount ROOT                          /proc and a private /dev/pts inside ROOT
#   chroot_run ROOT COMMAND...                 COMMAND inside ROOT, clean environment,
#                                              bounded by CHROOT_TIMEOUT seconds when set
#   chroot_destroy ROOT                        kills what runs in ROOT, unmounts, removes it
#
# DEBIAN_MIRROR (default http://deb.debian.org/debian) picks the archive;
# CHROOT_DEBOOTSTRAP_TIMEOUT (default 900 s) bounds debootstrap.

DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

chroot_create() {
  local root=$1
  shift
  timeout "${CHROOT_DEBOOTSTRAP_TIMEOUT:-900}" \
    debootstrap --variant=minbase "$@" bookworm "$root" "$DEBIAN_MIRROR"
}

chroot_mount() {
  local root=$1
  mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
  mkdir -p "$root/dev/pts"
  # A new devpts instance: the host's ptys stay out of reach, and nothing of
  # the host's /dev is bound in (so removing ROOT can never reach it).
  mountpoint -q "$root/dev/pts" || mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$root/dev/pts"
}

# chroot_run ROOT COMMAND...: as a root login on the bare machine would: a
# clean environment plus the variables named in CHROOT_ENV (NAME=VALUE words).
chroot_run() {
  local root=$1
  shift
  # shellcheck disable=SC2086 # CHROOT_ENV is a list of NAME=VALUE words
  timeout "${CHROOT_TIMEOUT:-0}" chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" ${CHROOT_ENV:-} "$@"
}

# chroot_pids ROOT: the processes whose root directory is ROOT (all started
# inside it by the caller).
chroot_pids() {
  local root p
  root=$(realpath "$1")
  for p in /proc/[0-9]*; do
    [[ $(readlink "$p/root" 2>/dev/null) == "$root" ]] && echo "${p#/proc/}"
  done
}

# chroot_stop ROOT [SECONDS]: SIGTERM to every process in ROOT, SIGKILL to
# those left after SECONDS (default 15).
chroot_stop() {
  local root=$1 wait_s=${2:-15} pids i
  pids=$(chroot_pids "$root")
  [[ -z $pids ]] && return 0
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null
  for ((i = 0; i < wait_s * 10; i++)); do
    [[ -z $(chroot_pids "$root") ]] && return 0
    sleep 0.1
  done
  pids=$(chroot_pids "$root")
  # shellcheck disable=SC2086
  [[ -n $pids ]] && kill -KILL $pids 2>/dev/null
  sleep 0.5
}

chroot_destroy() {
  local root=$1 m
  [[ -n $root && -d $root ]] || return 0
  chroot_stop "$root" 5
  # Deepest mounts first; lazy as a last resort so a busy mount cannot wedge
  # the cleanup.
  for m in $(findmnt -rn -o TARGET | grep -F "$(realpath "$root")/" | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m"
  done
  if findmnt -rn -o TARGET | grep -qF "$(realpath "$root")/"; then
    echo "chroot_destroy: $root still has mounts; not removing it" >&2
    return 1
  fi
  rm -rf --one-file-system "$root"
}
