#!/usr/bin/env bash
# Failure handling of the real binary:
#  a. SIGTERM under load: clients push (monolithic and chunked) and two slow
#     uploads are in flight; berth stops accepting, drains what it can within
#     http.shutdown_grace, exits 0 in time; after a restart every
#     acknowledged upload is intact and the cut-off one is not visible.
#     Then SIGTERM as soon as /readyz first answers, EARLY_TERM_RUNS times.
#  b. Full disk: the storage root on a small filesystem the test owns (tmpfs,
#     else a loop-mounted ext4 image, else SKIP); pushes until it is full must
#     get 507 with the OCI error envelope (code UNKNOWN, "storage is full"),
#     then, with not one byte left, small pushes and a manifest PUT must get
#     507 too; nothing partial may be stored, failed uploads give their space
#     back, berth stays up, and after space is freed pushes succeed without a
#     restart.
#  c. Corrupted blob: fsck finds it (exit 1, corrupt_blob), --repair
#     quarantines it, GET/HEAD answer 404 BLOB_UNKNOWN, pushing it again heals
#     it, fsck is clean again.
#  d. Start-up time does not grow with the store: 100,000 blobs and 10,000
#     tags written directly (files + metadata.db); start -> first /readyz 200
#     over 3 runs must stay under 1 s (compared with an empty store).
#
# FAILURES_PARTS (default "a b c d") picks parts; FULLDISK_FS=ext4 skips the
# tmpfs attempt of part b; STARTUP_BLOBS/STARTUP_TAGS size part d.
source "$(dirname "$0")/lib.sh"

PARTS=${FAILURES_PARTS:-a b c d}
want() { [[ " $PARTS " == *" $1 "* ]]; }

CLIENT_PIDS=()
EXTRA_PIDS=()
MOUNTED=""
DISK=$WORK/disk

failures_cleanup() {
  local p
  touch "$WORK/stop" 2>/dev/null
  for p in "${CLIENT_PIDS[@]}" "${EXTRA_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  for p in "${CLIENT_PIDS[@]}" "${EXTRA_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  stop_berth KILL
  if [[ -n $MOUNTED ]]; then umount "$DISK" 2>/dev/null || umount -l "$DISK" 2>/dev/null; fi
  cleanup
}
trap failures_cleanup EXIT

C=(curl -s --connect-timeout 2 --max-time 30)
sha() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# push_mono FILE REPO: monolithic POST ?digest=; prints the status.
push_mono() {
  "${C[@]}" --cacert "$CACERT" -o "$WORK/resp" -w '%{http_code}' -X POST --data-binary @"$1" \
    "$BASE/v2/$2/blobs/uploads/?digest=$(sha "$1")"
}

# push_chunked FILE REPO: POST, one PATCH, PUT ?digest=; prints the status of
# the first step that did not succeed, else of the PUT. The last body is in
# $WORK/resp.
push_chunked() {
  local loc size code
  size=$(stat -c %s "$1")
  code=$("${C[@]}" --cacert "$CACERT" -D "$WORK/hdr" -o "$WORK/resp" -w '%{http_code}' -X POST \
    "$BASE/v2/$2/blobs/uploads/")
  [[ $code == 202 ]] || { echo "$code"; return; }
  loc=$(awk -F': ' 'tolower($1)=="location"{print $2}' "$WORK/hdr" | tr -d '\r')
  [[ -n $loc ]] || { echo "no-location"; return; }
  code=$("${C[@]}" --cacert "$CACERT" -o "$WORK/resp" -w '%{http_code}' -X PATCH \
    -H 'Content-Type: application/octet-stream' -H "Content-Range: 0-$((size - 1))" \
    --data-binary @"$1" "$BASE$loc")
  [[ $code == 202 ]] || { echo "$code"; return; }
  "${C[@]}" --cacert "$CACERT" -o "$WORK/resp" -w '%{http_code}' -X PUT "$BASE$loc?digest=$(sha "$1")"
}

# get_digest REPO DIGEST: sha256 of what GET serves.
get_digest() {
  echo "sha256:$("${C[@]}" --cacert "$CACERT" "$BASE/v2/$1/blobs/$2" | sha256sum | cut -d' ' -f1)"
}

status_of() { "${C[@]}" --cacert "$CACERT" -o /dev/null -w '%{http_code}' "$@"; }

# blob_files_sound ROOT: every file under blobs/ hashes to its own name.
blob_files_sound() {
  local f bad=0 n=0
  while read -r f; do
    n=$((n + 1))
    [[ $(sha256sum "$f" | cut -d' ' -f1) == "$(basename "$f")" ]] || { bad=$((bad + 1)); echo "   bad blob file $f"; }
  done < <(find "$1/blobs/sha256" -type f 2>/dev/null)
  echo "   $n blob files checked"
  [[ $bad == 0 ]]
}

run_fsck() { env BERTH_STORAGE_ROOT="$1" timeout 120 "$BERTH_BIN" fsck "${@:2}" 2>&1; }

# stop_bounded LOG [SECONDS]: SIGTERM to the berth started last; SIGKILL if
# it is still there after SECONDS (default 15): a lost SIGTERM is reported,
# not waited for forever.
stop_bounded() {
  [[ -n $BERTH_PID ]] || return 0
  local j
  kill -TERM "$BERTH_PID" 2>/dev/null
  for j in $(seq 1 $((${2:-15} * 20))); do kill -0 "$BERTH_PID" 2>/dev/null || break; sleep 0.05; done
  if kill -0 "$BERTH_PID" 2>/dev/null; then
    fail "berth pid $BERTH_PID ignored SIGTERM for ${2:-15} s (killed); its log ends: $(tail -1 "${1:-/dev/null}")"
    kill -KILL "$BERTH_PID"
  fi
  wait "$BERTH_PID" 2>/dev/null
  BERTH_PID=""
}

# ===========================================================================
# a. SIGTERM under load
if want a; then
  echo "== a. SIGTERM under load"
  GRACE=4
  ROOT=$WORK/a/root
  mkdir -p "$WORK/a"
  PORT=$(free_port)
  start_berth "$ROOT" "$PORT" BERTH_HTTP_SHUTDOWN_GRACE=$GRACE || exit 1
  rm -f "$WORK/stop"

  # client N: pushes 64 KiB..1 MiB blobs, odd monolithic, even chunked (two
  # PATCHes), and a tagged manifest; records the 201s in acked.N.
  client() {
    local n=$1 i=0 acked=$WORK/a/acked.$n f=$WORK/a/blob.$n deadline=$((SECONDS + 60))
    local CC=(curl -s --connect-timeout 2 --max-time 20 --cacert "$CACERT")
    : >"$acked"
    while [[ ! -e $WORK/stop ]] && ((SECONDS < deadline && i < 10000)); do
      i=$((i + 1))
      local size=$((65536 + RANDOM * 30)) repo=term/c$n d code loc
      head -c "$size" /dev/urandom >"$f"
      d=$(sha "$f")
      if ((i % 2)); then
        code=$("${CC[@]}" -o /dev/null -w '%{http_code}' -X POST --data-binary @"$f" "$BASE/v2/$repo/blobs/uploads/?digest=$d")
      else
        local half=$((size / 2))
        loc=$("${CC[@]}" -D - -o /dev/null -X POST "$BASE/v2/$repo/blobs/uploads/" |
          awk -F': ' 'tolower($1)=="location"{print $2}' | tr -d '\r')
        [[ -n $loc ]] || { sleep 0.05; continue; }
        code=$(head -c "$half" "$f" | "${CC[@]}" -o /dev/null -w '%{http_code}' -X PATCH \
          -H "Content-Range: 0-$((half - 1))" --data-binary @- "$BASE$loc")
        [[ $code == 202 ]] || continue
        code=$(tail -c +$((half + 1)) "$f" | "${CC[@]}" -o /dev/null -w '%{http_code}' -X PATCH \
          -H "Content-Range: $half-$((size - 1))" --data-binary @- "$BASE$loc")
        [[ $code == 202 ]] || continue
        code=$("${CC[@]}" -o /dev/null -w '%{http_code}' -X PUT "$BASE$loc?digest=$d")
      fi
      [[ $code == 000 ]] && sleep 0.05
      [[ $code == 201 ]] || continue
      echo "blob $repo $d" >>"$acked"
      local cd=sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a m md
      code=$("${CC[@]}" -o /dev/null -w '%{http_code}' -X POST --data-binary '{}' "$BASE/v2/$repo/blobs/uploads/?digest=$cd")
      [[ $code == 201 ]] || continue
      m=$(printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%d}]}' "$cd" "$d" "$size")
      md=sha256:$(printf '%s' "$m" | sha256sum | cut -d' ' -f1)
      code=$("${CC[@]}" -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
        --data-binary "$m" "$BASE/v2/$repo/manifests/t$i")
      [[ $code == 201 ]] && echo "manifest $repo t$i $md" >>"$acked"
    done
    echo done >"$WORK/a/done.$n"
  }
  for n in 1 2 3; do client "$n" & CLIENT_PIDS+=($!); done
  sleep 2

  # Two slow monolithic uploads: one ends well within the grace period, one
  # cannot (it would need ~16 s).
  head -c $((384 * 1024)) /dev/urandom >"$WORK/a/slow_ok"
  head -c $((4 * 1024 * 1024)) /dev/urandom >"$WORK/a/slow_cut"
  for s in slow_ok slow_cut; do
    "${C[@]}" --max-time 40 --cacert "$CACERT" --limit-rate 256k -H 'Expect:' -o /dev/null -w '%{http_code}' -X POST \
      --data-binary @"$WORK/a/$s" "$BASE/v2/term/slow/blobs/uploads/?digest=$(sha "$WORK/a/$s")" >"$WORK/a/$s.code" &
    EXTRA_PIDS+=($!)
  done
  sleep 0.5
  t0=$(now_ms)
  kill -TERM "$BERTH_PID"
  sleep 0.3
  healthz_after=$(status_of "$BASE/healthz")
  for j in $(seq 1 $(((GRACE + 5) * 20))); do kill -0 "$BERTH_PID" 2>/dev/null || break; sleep 0.05; done
  term_lost=0
  if kill -0 "$BERTH_PID" 2>/dev/null && ! grep -q 'signal 15 received' "$ROOT.log"; then
    # The signal never reached berth's shutdown path: a failure of its own;
    # kill berth and still check what was acknowledged.
    term_lost=1
    fail "SIGTERM under load was ignored: no 'signal 15 received' after $((GRACE + 5)) s (killed)"
    kill -KILL "$BERTH_PID"
  elif kill -0 "$BERTH_PID" 2>/dev/null; then
    fail "berth still runs $((GRACE + 5)) s after SIGTERM (killed); log ends: $(tail -1 "$ROOT.log")"
    kill -KILL "$BERTH_PID"
  fi
  wait "$BERTH_PID"
  rc=$?
  t_exit=$(($(now_ms) - t0))
  BERTH_PID=""
  if ((!term_lost)); then
    expect_eq "after SIGTERM no new connection is accepted" 000 "$healthz_after"
    expect_eq "berth exits 0 on SIGTERM under load" 0 "$rc"
    echo "   exited ${t_exit} ms after SIGTERM (grace ${GRACE} s)"
    if ((t_exit <= GRACE * 1000 + 1500)); then pass "berth exits within the grace period"; else
      fail "berth exits within the grace period (${t_exit} ms > ${GRACE} s + 1.5 s)"; fi
    grep -q 'signal 15 received' "$ROOT.log" && pass "berth logged the shutdown" || fail "berth logged the shutdown"
  fi
  touch "$WORK/stop"
  for j in $(seq 1 200); do
    [[ $(ls "$WORK"/a/done.* 2>/dev/null | wc -l) -ge 3 ]] && break
    sleep 0.1
  done
  for p in "${EXTRA_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  EXTRA_PIDS=()
  cut_code=$(cat "$WORK/a/slow_cut.code")
  if ((!term_lost)); then
    expect_eq "the slow upload in flight at SIGTERM was drained (201)" 201 "$(cat "$WORK/a/slow_ok.code")"
    [[ $cut_code != 201 ]] && pass "the upload longer than the grace period was cut off ($cut_code)" ||
      fail "the upload longer than the grace period was cut off (got $cut_code)"
  fi
  expect_eq "every client finished" 3 "$(ls "$WORK"/a/done.* 2>/dev/null | wc -l)"
  for p in "${CLIENT_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  CLIENT_PIDS=()

  start_berth "$ROOT" "$PORT" BERTH_HTTP_SHUTDOWN_GRACE=$GRACE || exit 1
  lost=0 blobs=0 manifests=0
  while read -r kind repo a b; do
    if [[ $kind == blob ]]; then
      [[ $(get_digest "$repo" "$a") == "$a" ]] && blobs=$((blobs + 1)) || { lost=$((lost + 1)); echo "   lost blob $repo $a"; }
    else
      got=sha256:$("${C[@]}" --cacert "$CACERT" "$BASE/v2/$repo/manifests/$a" | sha256sum | cut -d' ' -f1)
      [[ $got == "$b" ]] && manifests=$((manifests + 1)) || { lost=$((lost + 1)); echo "   lost manifest $repo:$a"; }
    fi
  done < <(cat "$WORK"/a/acked.* 2>/dev/null)
  echo "   acknowledged before/while SIGTERM: $blobs blobs, $manifests manifests"
  expect_eq "every acknowledged upload is intact after SIGTERM and restart" 0 "$lost"
  ((blobs >= 5)) && pass "enough uploads were acknowledged ($blobs)" || fail "enough uploads were acknowledged ($blobs)"
  if [[ $(cat "$WORK/a/slow_ok.code") == 201 ]]; then
    expect_eq "the drained slow upload is intact" "$(sha "$WORK/a/slow_ok")" "$(get_digest term/slow "$(sha "$WORK/a/slow_ok")")"
  fi
  if [[ $cut_code != 201 ]]; then
    expect_eq "the cut-off upload is not visible" 404 \
      "$(status_of -I "$BASE/v2/term/slow/blobs/$(sha "$WORK/a/slow_cut")")"
  fi
  out=$(run_fsck "$ROOT")
  expect_eq "fsck after SIGTERM exits 0" 0 "$?"
  [[ $(tail -1 <<<"$out") == *'"problems":0'* ]] || head -5 <<<"$out"
  stop_bounded "$ROOT.log"

  # SIGTERM right after start-up (as soon as /readyz answers 200), repeated:
  # every time berth must log the signal and exit 0 within 3 s.
  RUNS=${EARLY_TERM_RUNS:-30}
  lost=0 badrc=0 done_runs=0
  t_end=$((SECONDS + 40))
  for r in $(seq 1 "$RUNS"); do
    ((SECONDS < t_end)) || break
    env BERTH_STORAGE_ROOT="$ROOT" BERTH_REGISTRY_ADDR=127.0.0.1 BERTH_REGISTRY_PORT="$PORT" \
      BERTH_AUTH_ENABLED=false "$BERTH_BIN" registry >"$WORK/a/early.$r.log" 2>&1 &
    BERTH_PID=$!
    for j in $(seq 1 300); do
      [[ $(curl -s --max-time 1 --cacert "$CACERT" -o /dev/null -w '%{http_code}' "$BASE/readyz") == 200 ]] && break
      kill -0 "$BERTH_PID" 2>/dev/null || break
      sleep 0.01
    done
    kill -TERM "$BERTH_PID"
    for j in $(seq 1 60); do kill -0 "$BERTH_PID" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$BERTH_PID" 2>/dev/null; then
      lost=$((lost + 1))
      echo "   run $r: pid $BERTH_PID still runs 3 s after SIGTERM; a second SIGTERM:"
      kill -TERM "$BERTH_PID"
      sleep 1
      kill -0 "$BERTH_PID" 2>/dev/null && echo "   ... ignored too; log ends: $(tail -1 "$WORK/a/early.$r.log")"
      kill -KILL "$BERTH_PID"
      wait "$BERTH_PID" 2>/dev/null
    else
      wait "$BERTH_PID" || badrc=$((badrc + 1))
    fi
    BERTH_PID=""
    done_runs=$r
  done
  echo "   SIGTERM right after start-up: $done_runs runs, $lost lost, $badrc non-zero exits"
  if [[ $lost == 0 ]]; then pass "SIGTERM right after start-up always stops berth ($done_runs runs)"; else
    fail "SIGTERM right after start-up was lost in $lost of $done_runs runs (berth kept serving, no 'signal 15 received' line)"; fi
  expect_eq "... and berth exits 0 each time" 0 "$badrc"
fi

# ===========================================================================
# b. Full disk
if want b; then
  echo "== b. full disk"
  mkdir -p "$DISK"
  : >"$WORK/mount.err"
  if [[ ${FULLDISK_FS:-tmpfs} == tmpfs ]] && mount -t tmpfs -o size=64m tmpfs "$DISK" 2>"$WORK/mount.err"; then
    MOUNTED=tmpfs
  elif truncate -s 64M "$WORK/disk.img" && mkfs.ext4 -q -F "$WORK/disk.img" >/dev/null 2>&1 &&
    mount -o loop "$WORK/disk.img" "$DISK" 2>>"$WORK/mount.err"; then
    MOUNTED=ext4-loop
  fi
  if [[ -z $MOUNTED ]]; then
    echo "SKIP - full disk: neither a tmpfs nor a loop-mounted ext4 could be mounted: $(tr '\n' ' ' <"$WORK/mount.err")"
  else
    echo "   64 MiB $MOUNTED at $DISK"
    ROOT=$DISK/root
    PORT=$(free_port)
    start_berth "$ROOT" "$PORT" || exit 1
    avail=$(df --output=avail -B1 "$DISK" | tail -1 | tr -d ' ')
    filler=$((avail - 7 * 1024 * 1024))
    head -c "$filler" /dev/zero >"$DISK/filler" 2>/dev/null
    echo "   filler $((filler / 1048576)) MiB; $(($(df --output=avail -B1 "$DISK" | tail -1) / 1024)) KiB left"

    # 2 MiB blobs, monolithic and chunked in turn, until a push fails.
    ok=0 fails=0 first_fail=""
    failed_digests=()
    for i in $(seq 1 12); do
      head -c $((2 * 1024 * 1024)) /dev/urandom >"$WORK/full.$i"
      if ((i % 2)); then kind=monolithic; code=$(push_mono "$WORK/full.$i" full/r); else
        kind=chunked; code=$(push_chunked "$WORK/full.$i" full/r); fi
      if [[ $code == 201 ]]; then
        ok=$((ok + 1))
        ((fails == 0)) || echo "   push $i ($kind) succeeded after a failure"
        continue
      fi
      fails=$((fails + 1))
      failed_digests+=("$(sha "$WORK/full.$i")")
      body=$(cat "$WORK/resp" 2>/dev/null)
      echo "   push $i ($kind): $code $body"
      if [[ -z $first_fail ]]; then first_fail=$i; fi
      ecode=$(jq -r '.errors[0].code // empty' <<<"$body" 2>/dev/null)
      emsg=$(jq -r '.errors[0].message // empty' <<<"$body" 2>/dev/null)
      if [[ $code == 507 && $ecode == UNKNOWN && $emsg == *"storage is full"* ]]; then
        pass "full disk, $kind push: 507 UNKNOWN \"$emsg\""
      elif [[ $code == 000 ]]; then
        fail "full disk, $kind push: connection dropped without an answer (curl saw no status)"
      else
        fail "full disk, $kind push: expected 507 UNKNOWN 'storage is full', got $code $body"
      fi
      ((fails >= 4)) && break
    done
    echo "   $ok pushes of 2 MiB succeeded before the disk was full"
    ((ok >= 1 && fails >= 2)) && pass "the disk filled up after $ok pushes" || fail "the disk filled up ($ok ok, $fails failed)"
    grep -E 'storage is full' "$ROOT.log" | head -2 | sed 's/^/   log: /'
    held=$(find "$ROOT/uploads" -type f -printf '%s\n' 2>/dev/null | paste -sd+ | bc)
    echo "   $(find "$ROOT/uploads" -type f | wc -l) upload session files left in uploads/"
    expect_eq "failed uploads gave their space back (bytes in uploads/)" 0 "${held:-0}"

    # Now not even a page is left: small pushes, a manifest and a tag.
    dd if=/dev/zero of="$DISK/filler2" bs=64k status=none 2>/dev/null
    echo "   filler2 written; $(df --output=avail -B1 "$DISK" | tail -1 | tr -d ' ') bytes left"
    head -c 1000 /dev/urandom >"$WORK/tiny1"
    head -c 1000 /dev/urandom >"$WORK/tiny2"
    for kind in mono chunked; do
      f=$WORK/tiny1
      [[ $kind == chunked ]] && f=$WORK/tiny2
      code=$(push_$kind "$f" full/r)
      body=$(cat "$WORK/resp" 2>/dev/null)
      if [[ $code == 507 && $(jq -r '.errors[0].code' <<<"$body" 2>/dev/null) == UNKNOWN ]]; then
        pass "disk 100% full, 1000-byte $kind push: 507 UNKNOWN"
      else
        fail "disk 100% full, 1000-byte $kind push: expected 507 UNKNOWN, got $code $body"
      fi
      [[ $code == 201 ]] || failed_digests+=("$(sha "$f")")
    done
    cd=$(sha "$WORK/full.1")
    m=$(printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[],"annotations":{"n":"%s"}}' \
      "$cd" $((2 * 1024 * 1024)) "$RANDOM$RANDOM")
    code=$("${C[@]}" --cacert "$CACERT" -o "$WORK/resp" -w '%{http_code}' -X PUT \
      -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "$m" "$BASE/v2/full/r/manifests/full")
    body=$(cat "$WORK/resp")
    echo "   disk 100% full, manifest PUT: $code $body"
    case $code in
      201) pass "disk 100% full, manifest PUT: 201 (SQLite found room in its WAL)"
           expect_eq "... and the manifest is served" "sha256:$(printf '%s' "$m" | sha256sum | cut -d' ' -f1)" \
             "sha256:$("${C[@]}" --cacert "$CACERT" "$BASE/v2/full/r/manifests/full" | sha256sum | cut -d' ' -f1)" ;;
      507) pass "disk 100% full, manifest PUT: 507"
           expect_eq "... and no tag appeared" 404 "$(status_of "$BASE/v2/full/r/manifests/full")" ;;
      *) fail "disk 100% full, manifest PUT: expected 507 (or 201), got $code $body" ;;
    esac
    kill -0 "$BERTH_PID" 2>/dev/null && pass "berth is still running with a full disk" || fail "berth is still running with a full disk"
    expect_eq "/healthz answers 200 with a full disk" 200 "$(status_of "$BASE/healthz")"
    echo "   /readyz with a full disk: $("${C[@]}" --cacert "$CACERT" "$BASE/readyz" | tr -d '\n')"
    if blob_files_sound "$ROOT"; then pass "no partial or wrong blob file after ENOSPC"; else
      fail "a blob file does not hash to its name after ENOSPC"; fi
    visible=0
    for d in "${failed_digests[@]}"; do
      c=$(status_of -I "$BASE/v2/full/r/blobs/$d")
      [[ $c == 404 ]] || { visible=$((visible + 1)); echo "   failed push $d answers HEAD $c"; }
    done
    expect_eq "no failed push is visible (HEAD 404)" 0 "$visible"
    out=$(run_fsck "$ROOT")
    rc=$?
    if [[ $rc == 0 ]]; then pass "fsck clean with a full disk"; else
      fail "fsck with a full disk exits $rc: $(head -3 <<<"$out" | tr '\n' ' ')"; fi

    rm -f "$DISK/filler" "$DISK/filler2"
    echo "   filler deleted; $(($(df --output=avail -B1 "$DISK" | tail -1) / 1048576)) MiB free"
    head -c $((2 * 1024 * 1024)) /dev/urandom >"$WORK/full.after"
    expect_eq "after freeing space a monolithic push succeeds (no restart)" 201 "$(push_mono "$WORK/full.after" full/r)"
    expect_eq "... and is served intact" "$(sha "$WORK/full.after")" "$(get_digest full/r "$(sha "$WORK/full.after")")"
    if [[ -n $first_fail ]]; then
      f=$WORK/full.$first_fail
      expect_eq "the push that hit the full disk succeeds when repeated (chunked)" 201 "$(push_chunked "$f" full/r)"
      expect_eq "... and is served intact" "$(sha "$f")" "$(get_digest full/r "$(sha "$f")")"
    fi
    expect_eq "/readyz answers 200 again" 200 "$(status_of "$BASE/readyz")"
    out=$(run_fsck "$ROOT")
    expect_eq "fsck after freeing space exits 0" 0 "$?"
    blob_files_sound "$ROOT" >/dev/null && pass "every blob file hashes to its name" || fail "every blob file hashes to its name"
    stop_bounded "$ROOT.log"
    if umount "$DISK"; then MOUNTED=""; pass "unmounted the test filesystem"; else fail "unmount $DISK"; fi
  fi
fi

# ===========================================================================
# c. Corrupted blob
if want c; then
  echo "== c. corrupted blob"
  ROOT=$WORK/c/root
  mkdir -p "$WORK/c"
  PORT=$(free_port)
  start_berth "$ROOT" "$PORT" || exit 1
  f=$WORK/c/blob
  head -c 100000 /dev/urandom >"$f"
  d=$(sha "$f")
  hex=${d#sha256:}
  path=$ROOT/blobs/sha256/${hex:0:2}/$hex
  expect_eq "push the blob" 201 "$(push_mono "$f" corrupt/r)"
  head -c 5000 /dev/urandom >"$WORK/c/other"
  expect_eq "push a second, sound blob" 201 "$(push_mono "$WORK/c/other" corrupt/r)"
  check "its file is at blobs/sha256/${hex:0:2}/$hex" test -f "$path"
  printf 'CORRUPTED-BY-THE-TEST' | dd of="$path" bs=1 seek=4096 conv=notrunc status=none
  [[ $(sha256sum "$path" | cut -d' ' -f1) != "$hex" ]] && pass "bytes flipped in place" || fail "bytes flipped in place"

  out=$(run_fsck "$ROOT")
  rc=$?
  expect_eq "fsck finds a problem (exit 1)" 1 "$rc"
  line=$(jq -c "select(.problem == \"corrupt_blob\" and .subject == \"$d\")" <<<"$out" 2>/dev/null)
  [[ -n $line ]] && pass "fsck reports corrupt_blob naming $d" || fail "fsck reports corrupt_blob naming $d (got: $out)"
  expect_eq "every problem fsck reports is about that blob" 0 \
    "$(jq -s "[.[] | select(.problem) | select((.subject | endswith(\"$d\")) | not)] | length" <<<"$out")"
  check "fsck without --repair leaves the file alone" test -f "$path"

  out=$(run_fsck "$ROOT" --repair)
  rc=$?
  expect_eq "fsck --repair exits 1 (problems were found)" 1 "$rc"
  expect_eq "fsck --repair reports it repaired" true \
    "$(jq -r "select(.problem == \"corrupt_blob\" and .subject == \"$d\") | .repaired" <<<"$out")"
  [[ ! -e $path ]] && pass "the corrupt file left blobs/" || fail "the corrupt file left blobs/"
  q=$(ls "$ROOT"/quarantine/sha256-"$hex"-* 2>/dev/null | head -1)
  [[ -n $q ]] && pass "it is kept in quarantine/ ($(basename "$q"))" || fail "it is kept in quarantine/"

  code=$("${C[@]}" --cacert "$CACERT" -o "$WORK/c/resp" -w '%{http_code}' "$BASE/v2/corrupt/r/blobs/$d")
  expect_eq "GET of the quarantined blob: 404" 404 "$code"
  expect_eq "... with BLOB_UNKNOWN" BLOB_UNKNOWN "$(jq -r '.errors[0].code' "$WORK/c/resp" 2>/dev/null)"
  expect_eq "HEAD of the quarantined blob: 404" 404 "$(status_of -I "$BASE/v2/corrupt/r/blobs/$d")"
  expect_eq "a ranged GET of it: 404 too" 404 "$(status_of -H 'Range: bytes=0-9' "$BASE/v2/corrupt/r/blobs/$d")"
  expect_eq "the other blob is still served" "$(sha "$WORK/c/other")" "$(get_digest corrupt/r "$(sha "$WORK/c/other")")"
  out=$(run_fsck "$ROOT")
  rc=$?
  expect_eq "before the re-push fsck reports the missing file (exit 1)" 1 "$rc"
  expect_contains "... as missing_blob_file" missing_blob_file "$out"

  expect_eq "pushing it again: 201" 201 "$(push_mono "$f" corrupt/r)"
  expect_eq "GET returns the right bytes again" "$d" "$(get_digest corrupt/r "$d")"
  expect_eq "HEAD answers 200 again" 200 "$(status_of -I "$BASE/v2/corrupt/r/blobs/$d")"
  [[ $(sha256sum "$path" | cut -d' ' -f1) == "$hex" ]] && pass "the file under blobs/ is sound again" || fail "the file under blobs/ is sound again"
  out=$(run_fsck "$ROOT")
  expect_eq "fsck exits 0 after the heal" 0 "$?"
  stop_bounded "$ROOT.log"
fi

# ===========================================================================
# d. Start-up time with a big store
if want d; then
  echo "== d. start-up time with a big store"
  NBLOBS=${STARTUP_BLOBS:-100000}
  NTAGS=${STARTUP_TAGS:-10000}
  ROOT=$WORK/d/root
  mkdir -p "$WORK/d"
  PORT=$(free_port)

  # startup_ms: starts berth on ROOT, polls /readyz every 10 ms until 200
  # (10 s at most), stops it with SIGTERM; sets STARTUP to the milliseconds.
  startup_ms() {
    local t0 t1 j ok=0 pid
    t0=$(date +%s%N)
    env BERTH_STORAGE_ROOT="$ROOT" BERTH_REGISTRY_ADDR=127.0.0.1 BERTH_REGISTRY_PORT="$PORT" \
      BERTH_AUTH_ENABLED=false "$BERTH_BIN" registry >>"$ROOT.log" 2>&1 &
    pid=$!
    BERTH_PID=$pid
    for j in $(seq 1 1000); do
      [[ $(curl -s --max-time 1 --cacert "$ROOT/keys/tls.crt" -o /dev/null -w '%{http_code}' \
        "https://127.0.0.1:$PORT/readyz") == 200 ]] && { ok=1; break; }
      kill -0 "$pid" 2>/dev/null || break
      (($(date +%s%N) - t0 < 10000000000)) || break
      sleep 0.01
    done
    t1=$(date +%s%N)
    stop_bounded "$ROOT.log" 5
    if ((ok)); then STARTUP=$(((t1 - t0) / 1000000)); else STARTUP=FAIL; fi
  }

  # The first start creates the schema, the certificate and the layout.
  start_berth "$ROOT" "$PORT" || exit 1
  stop_bounded "$ROOT.log"
  empty=()
  for r in 1 2 3; do startup_ms; empty+=("$STARTUP"); done
  echo "   empty store: start -> /readyz 200: ${empty[*]} ms"

  t0=$(now_ms)
  python3 - "$ROOT" "$NBLOBS" "$NTAGS" >"$WORK/d/populate.out" 2>&1 <<'EOF'
import hashlib, json, os, sqlite3, sys
root, nblobs, ntags = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
nrepos = 100
bdir = os.path.join(root, "blobs", "sha256")
for i in range(256):
    os.makedirs(os.path.join(bdir, "%02x" % i), exist_ok=True)

def put(data):
    h = hashlib.sha256(data).hexdigest()
    with open(os.path.join(bdir, h[:2], h), "wb") as f:
        f.write(data)
    return "sha256:" + h

cfg = put(b"{}")
blobs = [(cfg, 2)]
layer = []
for i in range(nblobs):
    data = b"berth start-up blob %d\n" % i
    d = put(data)
    blobs.append((d, len(data)))
    layer.append((d, len(data)))

db = sqlite3.connect(os.path.join(root, "metadata.db"))
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA foreign_keys=ON")
with db:
    db.executemany("INSERT INTO repositories(id, name) VALUES (?, ?)",
                   [(r + 1, "big/r%03d" % r) for r in range(nrepos)])
    db.executemany("INSERT INTO blobs(digest, size) VALUES (?, ?)", blobs)
    db.executemany("INSERT INTO repo_blobs(repo_id, digest) VALUES (?, ?)",
                   [(r + 1, cfg) for r in range(nrepos)] +
                   [(i % nrepos + 1, d) for i, (d, _) in enumerate(layer)])
    manifests, refs, tags = [], [], []
    for t in range(ntags):
        d, size = layer[t]
        repo = t % nrepos + 1
        m = json.dumps({"schemaVersion": 2,
                        "mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                   "digest": cfg, "size": 2},
                        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                                    "digest": d, "size": size}]},
                       separators=(",", ":")).encode()
        md = "sha256:" + hashlib.sha256(m).hexdigest()
        manifests.append((repo, md, "application/vnd.oci.image.manifest.v1+json", m))
        refs += [(repo, md, cfg), (repo, md, d)]
        tags.append((repo, "v%d" % t, md))
    db.executemany("INSERT INTO manifests(repo_id, digest, media_type, content) VALUES (?, ?, ?, ?)",
                   manifests)
    db.executemany("INSERT INTO manifest_refs(repo_id, digest, ref) VALUES (?, ?, ?)", refs)
    db.executemany("INSERT INTO tags(repo_id, name, digest) VALUES (?, ?, ?)", tags)
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
db.close()
# A sample to check through berth: repo, tag, manifest digest, layer digest.
t = ntags - 1
print("big/r%03d" % (t % nrepos), "v%d" % t, manifests[t][1], layer[t][0])
EOF
  prc=$?
  echo "   populated $NBLOBS blobs, $NTAGS tags in $(($(now_ms) - t0)) ms"
  expect_eq "the big store was written" 0 "$prc"
  [[ $prc == 0 ]] || cat "$WORK/d/populate.out"
  read -r srepo stag smd slayer <"$WORK/d/populate.out"
  counts=$(python3 -c "import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); print(*[db.execute('select count(*) from '+t).fetchone()[0] for t in ('blobs','repo_blobs','manifests','tags')])" "$ROOT/metadata.db")
  echo "   rows: blobs repo_blobs manifests tags = $counts; blob files: $(find "$ROOT/blobs/sha256" -type f | wc -l)"

  big=()
  for r in 1 2 3; do startup_ms; big+=("$STARTUP"); done
  echo "   $NBLOBS blobs / $NTAGS tags: start -> /readyz 200: ${big[*]} ms (empty store: ${empty[*]} ms)"
  worst=0
  for v in "${big[@]}"; do
    [[ $v == FAIL ]] && { worst=999999; break; }
    ((v > worst)) && worst=$v
  done
  if ((worst < 1000)); then pass "start-up with $NBLOBS blobs under 1 s (worst ${worst} ms)"; else
    fail "start-up with $NBLOBS blobs took ${worst} ms (>= 1 s): ${big[*]}"; fi

  # The synthetic store is real to berth.
  start_berth "$ROOT" "$PORT" || exit 1
  got=$("${C[@]}" --cacert "$CACERT" -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "$BASE/v2/$srepo/manifests/$stag" | sha256sum | cut -d' ' -f1)
  expect_eq "berth serves a tag of the big store ($srepo:$stag)" "$smd" "sha256:$got"
  expect_eq "... and its layer" "$slayer" "$(get_digest "$srepo" "$slayer")"
  expect_eq "tags list of $srepo has $((NTAGS / 100)) tags" $((NTAGS / 100)) \
    "$("${C[@]}" --cacert "$CACERT" "$BASE/v2/$srepo/tags/list?n=100000" | jq '.tags | length')"
  stop_bounded "$ROOT.log"
  if [[ ${STARTUP_FSCK:-1} == 1 ]]; then
    t0=$(now_ms)
    out=$(run_fsck "$ROOT")
    rc=$?
    expect_eq "fsck of the big store exits 0 ($(($(now_ms) - t0)) ms)" 0 "$rc"
    [[ $rc == 0 ]] || head -3 <<<"$out"
  fi
fi

summary
