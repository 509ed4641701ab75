#!/usr/bin/env bash
# Storage lifecycle (docs/lifecycle.md): online garbage collection, retention
# and quotas, driven through the admin API (POST /v2/_berth/gc, GET
# /v2/_berth/usage) with auth off, against the real binary over HTTPS on
# 127.0.0.1. Images are pushed with gc_tool.py (random layers, monolithic
# uploads; "fully pullable" = manifest and every blob fetched and
# sha256-checked, index children followed).
#
#   1. space: 50 images, 40 deleted by digest, GC; the root's size is within
#      5 % of a fresh root holding only the 10 survivors, whose blob files are
#      the very same; the survivors pull.
#   2. untagged: an index and its children go once the tag is gone
#      (untagged_delay 0), not with untagged_delay 3600; a referrer lives as
#      long as its subject.
#   3. delays: an unreferenced blob link survives gc.delay 3600 and goes with
#      0; a blob still linked elsewhere keeps its file; a blob file the
#      database does not know goes.
#   4. uploads: a session idle past uploads.max_age (60 s, the least berth
#      accepts; its file's mtime set back) goes, a fresh one stays, a stray
#      file under uploads/ goes.
#   5. dry run: reports the same counts as the real run and deletes nothing.
#   6. retention: keep_last/keep_tags on "ret/*" (only that glob), the dry
#      run lists what goes, retention.dry_run keeps everything; keep_days
#      keeps a tag that was pulled recently (pushes made 3 days in the past
#      under faketime).
#   7. quotas: default and per-namespace quota, 403 DENIED with "quota" in
#      the message (also through skopeo and podman), distinct blobs counted
#      once, manifest PUT refused while over quota, usage exact, unchanged
#      by a restart, lower after delete + GC.
#   8. skopeo: delete 2 of 3 tags, GC, the third still copies to dir:.
#   9. the background run (gc.interval) collects without being asked.
#  10. one run that lasts more than a second still frees the links and files
#      of every manifest it removed.
#
# Environment: KEEP_WORK=1 keeps the work dir; GC_SKIP="7 8" skips sections.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/oci.sh"
# shellcheck disable=SC2034 # START_ARGS is read by lib.sh start_berth

LOGS=$WORK/logs
mkdir -p "$LOGS" "$WORK/tmp"
T0=$SECONDS
TIMES=()
ZERO=(BERTH_GC_INTERVAL=0 BERTH_GC_DELAY=0 BERTH_GC_UNTAGGED_DELAY=0)

# tool ARGS...: gc_tool.py against the current berth (2 minutes at most).
tool() { timeout 120 python3 "$HERE/gc_tool.py" --base "$BASE" --cacert "$CACERT" "$@"; }
# gc [--dry-run]: a collection; its JSON answer goes to $WORK/gc.json.
gc() { tool gc "$@" >"$WORK/gc.json"; }
g() { jq -r "$1" "$WORK/gc.json" 2>/dev/null; }
# n FIELD: a number from the GC answer, -1 when it has none.
n() { local v; v=$(g "$1"); [[ $v =~ ^[0-9]+$ ]] && echo "$v" || echo -1; }
# pulls REPO REF [--digest D]: the image pulls fully.
pulls() { tool verify "$@" >"$WORK/verify.json" || { jq -c .problems "$WORK/verify.json" | cut -c1-300; return 1; }; }
# fresh NAME ENV...: stops berth and starts one on a new root $WORK/NAME.
# Nothing can be checked without berth: a failed start ends the suite.
fresh() {
  stop_berth
  ROOT=$WORK/$1
  shift
  PORT=$(free_port)
  start_berth "$ROOT" "$PORT" "$@" || { fail "berth starts on $(basename "$ROOT") with $*"; summary; exit 1; }
}
# again ENV...: restarts berth on the same root with other settings.
again() {
  stop_berth
  start_berth "$ROOT" "$PORT" "$@" || { fail "berth restarts on $(basename "$ROOT") with $*"; summary; exit 1; }
}
blob_file() { echo "$ROOT/blobs/sha256/${1:7:2}/${1:7}"; }
# files_of JSON-RECORD-FILE: digests of every blob of the records, one a line.
blobs_of() { jq -r '.blobs | keys[]' "$@" | sort -u; }
# present DIGESTS-FILE: how many of these blobs have a file under $ROOT.
present() {
  local n=0 d
  while read -r d; do [[ -f $(blob_file "$d") ]] && n=$((n + 1)); done <"$1"
  echo "$n"
}
code() { curl -s --max-time 30 --cacert "$CACERT" -o /dev/null -w '%{http_code}' "$@"; }
section() {
  [[ -n ${SECTION_T:-} ]] && TIMES+=("$(printf '%-12s %4d s' "$SECTION_NAME" $((SECONDS - SECTION_T)))")
  SECTION_NAME=$1 SECTION_T=$SECONDS
  echo "# $*"
}
skip() { [[ " ${GC_SKIP:-} " == *" $1 "* ]]; }
# The admin API must exist at all; otherwise every section fails the same way.
gc_ok() {
  if [[ $(g .http_status) != 200 ]]; then
    fail "$1: POST /v2/_berth/gc answers 200 (got $(g .http_status): $(head -c 200 "$WORK/gc.json"))"
    return 1
  fi
  pass "$1: POST /v2/_berth/gc answers 200 ($(g .seconds) s)"
}

for _ in $(seq 1 18); do [[ -x $BERTH_BIN ]] && break; echo "waiting for $BERTH_BIN"; sleep 10; done
need jq || { summary; exit 1; }

# ====================================================================== 1.
if ! skip 1; then
  section space "1. space: 50 images, 40 deleted, GC, compared with a root of the 10 survivors"
  fresh space "${ZERO[@]}"
  tool push-images sp/app --seed sp --indices 0-49 --shared-seed sp --threads 2 --quiet --out "$WORK/space.json"
  expect_eq "50 images pushed (config + 2 x 256 KiB + 1 shared layer each)" 50 "$(wc -l <"$WORK/space.json")"
  jq -c 'select(.index < 40)' "$WORK/space.json" >"$WORK/space-del.json"
  jq -c 'select(.index >= 40)' "$WORK/space.json" >"$WORK/space-keep.json"
  blobs_of "$WORK/space-keep.json" >"$WORK/space-keep.blobs"
  blobs_of "$WORK/space-del.json" | comm -23 - "$WORK/space-keep.blobs" >"$WORK/space-gone.blobs"
  # What only the deleted images had goes (the shared layer stays).
  gone_bytes=$(jq -r '.blobs | to_entries[] | "\(.key) \(.value)"' "$WORK/space-del.json" | sort -u |
    grep -vFf "$WORK/space-keep.blobs" | awk '{s += $2} END {print s + 0}')
  keep_bytes=$(jq -r '.blobs | to_entries[] | "\(.key) \(.value)"' "$WORK/space-keep.json" | sort -u |
    awk '{s += $2} END {print s + 0}')
  out=$(tool delete-file "$WORK/space.json" --indices 0-39)
  expect_eq "40 manifests deleted by digest (all 202)" '{"202":40}' "$(jq -c .deleted <<<"$out")"
  before=$(du -sb "$ROOT" | cut -f1)
  gc
  if gc_ok "space"; then
    expect_eq "GC: blobs_deleted = the 120 blobs only the deleted images had" "$(wc -l <"$WORK/space-gone.blobs")" "$(g .blobs_deleted)"
    expect_eq "GC: links_deleted = 120" "$(wc -l <"$WORK/space-gone.blobs")" "$(g .links_deleted)"
    expect_eq "GC: bytes_freed = their sizes" "$gone_bytes" "$(g .bytes_freed)"
  fi
  after=$(du -sb "$ROOT" | cut -f1)
  expect_eq "GC: no blob file of a deleted image is left" 0 "$(present "$WORK/space-gone.blobs")"
  expect_eq "GC: every blob file of a survivor is there" "$(wc -l <"$WORK/space-keep.blobs")" "$(present "$WORK/space-keep.blobs")"
  out=$(tool verify-file "$WORK/space.json" --indices 40-49)
  expect_eq "the 10 survivors pull fully (by tag and digest, sha256-checked)" '10 0' "$(jq -r '"\(.ok) \(.bad)"' <<<"$out")"
  sample=$(jq -r 'select(.index == 7) | .digest' "$WORK/space.json")
  expect_eq "a deleted image's manifest is 404" 404 "$(tool status sp/app "$sample")"
  ( cd "$ROOT/blobs" && find . -type f | sort ) >"$WORK/space-files.a"
  wal_a=$(stat -c %s "$ROOT/metadata.db-wal" 2>/dev/null || echo 0)
  # Sizes are compared with berth stopped: a clean stop checkpoints and
  # removes SQLite's WAL, whose size (up to its 4 MiB autocheckpoint mark,
  # whatever the store holds) says nothing about what GC freed.
  stop_berth
  stopped=$(du -sb "$ROOT" | cut -f1)
  # A fresh root into which only the survivors were pushed.
  fresh space-fresh "${ZERO[@]}"
  tool push-images sp/app --seed sp --indices 40-49 --shared-seed sp --quiet --out "$WORK/space-fresh.json"
  ref_running=$(du -sb "$ROOT" | cut -f1)
  wal_b=$(stat -c %s "$ROOT/metadata.db-wal" 2>/dev/null || echo 0)
  ( cd "$ROOT/blobs" && find . -type f | sort ) >"$WORK/space-files.b"
  stop_berth
  ref=$(du -sb "$ROOT" | cut -f1)
  echo "   du -sb of the root, berth running: before GC $before, after GC $after (WAL $wal_a), fresh root with the 10 survivors $ref_running (WAL $wal_b)"
  echo "   du -sb of the root, berth stopped: after GC $stopped, fresh root $ref"
  echo "   blob bytes: survivors $keep_bytes, freed $gone_bytes; blobs/ after GC $(du -sb "$WORK/space/blobs" | cut -f1), fresh $(du -sb "$ROOT/blobs" | cut -f1)"
  echo "   metadata.db: after GC $(stat -c %s "$WORK/space/metadata.db"), fresh $(stat -c %s "$ROOT/metadata.db") bytes"
  if ((stopped * 100 <= ref * 105 && stopped * 100 >= ref * 95)); then
    pass "root after GC ($stopped) within 5 % of the fresh root ($ref)"
  else
    fail "root after GC ($stopped) within 5 % of the fresh root ($ref): $(((stopped - ref) * 100 / ref)) %"
  fi
  check "the blob files after GC are exactly those of the fresh root" cmp -s "$WORK/space-files.a" "$WORK/space-files.b"
fi

# ====================================================================== 2.
if ! skip 2; then
  section untagged "2. untagged manifests: index and children, referrers"
  fresh untagged "${ZERO[@]}"
  tool push-index un/idx v1 --seed ui --children 2 >"$WORK/idx.json"
  tool push-image un/idx keep --seed uk >"$WORK/idx-keep.json"
  IDX=$(jq -r .digest "$WORK/idx.json")
  jq -r '.children[]' "$WORK/idx.json" >"$WORK/idx.children"
  blobs_of "$WORK/idx.json" >"$WORK/idx.blobs"
  nb=$(wc -l <"$WORK/idx.blobs")
  gc
  gc_ok "untagged"
  expect_eq "a tagged index: kept, its children too (they are its children)" "200 200 200" \
    "$(tool status un/idx "$IDX") $(while read -r d; do tool status un/idx "$d"; done <"$WORK/idx.children" | xargs)"
  expect_eq "delete the tag v1 (the index becomes untagged)" 202 "$(tool delete un/idx v1)"
  expect_eq "the tag is gone, the index is still there by digest" "404 200" "$(tool status un/idx v1) $(tool status un/idx "$IDX")"
  again "${ZERO[@]}" BERTH_GC_UNTAGGED_DELAY=3600
  gc
  expect_eq "untagged_delay 3600: GC deletes no manifest" 0 "$(g .manifests_deleted)"
  check "untagged_delay 3600: the index still pulls fully" pulls un/idx "$IDX" --digest "$IDX"
  expect_eq "untagged_delay 3600: every blob file of the index's children is there" "$nb" "$(present "$WORK/idx.blobs")"
  again "${ZERO[@]}"
  gc
  expect_eq "untagged_delay 0: GC deletes the index and its 2 children in one run" 3 "$(g .manifests_deleted)"
  expect_eq "untagged_delay 0: the report lists the index and both children" \
    "$(sort <(echo "$IDX"; cat "$WORK/idx.children") | xargs)" \
    "$(g '.manifests[] | select(.repository == "un/idx") | .digest' | sort | xargs)"
  expect_eq "untagged_delay 0: index and children are 404 by digest" "404 404 404" \
    "$(tool status un/idx "$IDX") $(while read -r d; do tool status un/idx "$d"; done <"$WORK/idx.children" | xargs)"
  expect_eq "untagged_delay 0: their blob files are gone" 0 "$(present "$WORK/idx.blobs")"
  check "the tagged image in the same repository still pulls" pulls un/idx keep

  # Referrers: kept while their subject is in the repository.
  tool push-image un/ref base --seed rb >"$WORK/ref-base.json"
  BASE_D=$(jq -r .digest "$WORK/ref-base.json")
  tool push-image un/ref --seed rr --layers 1 --layer-size 1000 --subject base >"$WORK/ref.json"
  REF_D=$(jq -r .digest "$WORK/ref.json")
  [[ $REF_D == sha256:* ]] || fail "push a referrer (a manifest with a subject): $(cat "$WORK/ref.json")"
  blobs_of "$WORK/ref.json" | comm -23 - <(blobs_of "$WORK/ref-base.json") >"$WORK/ref.blobs"
  gc
  expect_eq "an untagged referrer whose subject is there survives GC" 200 "$(tool status un/ref "$REF_D")"
  expect_eq "delete the subject by digest" 202 "$(tool delete un/ref "$BASE_D")"
  gc
  expect_eq "once its subject is gone the referrer goes (404)" 404 "$(tool status un/ref "$REF_D")"
  expect_contains "the report lists the referrer" "$REF_D" "$(g '[.manifests[].digest] | join(" ")')"
  expect_eq "the referrer's own blob files are gone" 0 "$(present "$WORK/ref.blobs")"
fi

# ====================================================================== 3.
if ! skip 3; then
  section delays "3. gc.delay: unreferenced blob links"
  fresh delays "${ZERO[@]}" BERTH_GC_DELAY=3600
  D1=$(tool push-blob de/x --seed dx | jq -r .digest)
  # The same bytes as a layer of an image in another repository (de/y).
  tool push-image de/y t --seed dy --layers 1 --layer-size 2000 --shared-seed dsh --shared-size 3000 >"$WORK/de-y.json"
  D2=$(tool push-blob de/x --seed shared/dsh --size 3000 | jq -r .digest)
  expect_contains "the lone blob in de/x is a layer of de/y:t" "$D2" "$(jq -c .blobs "$WORK/de-y.json")"
  gc
  gc_ok "delays"
  expect_eq "gc.delay 3600: the unreferenced link survives (HEAD 200)" 200 "$(tool blob-status de/x "$D1")"
  check "gc.delay 3600: its file is there" test -f "$(blob_file "$D1")"
  expect_eq "gc.delay 3600: no link deleted" 0 "$(g .links_deleted)"
  again "${ZERO[@]}"
  gc
  expect_eq "gc.delay 0: the unreferenced link goes (HEAD 404)" 404 "$(tool blob-status de/x "$D1")"
  check "gc.delay 0: its file is gone" test ! -e "$(blob_file "$D1")"
  expect_eq "gc.delay 0: the link in de/x of a blob de/y still links goes (HEAD 404 in de/x)" 404 "$(tool blob-status de/x "$D2")"
  expect_eq "... but de/y still has it (HEAD 200)" 200 "$(tool blob-status de/y "$D2")"
  check "... and its file stays" test -f "$(blob_file "$D2")"
  check "the image in de/y still pulls" pulls de/y t
  # A file under blobs/ that the database does not know (as a crash between
  # the rename of an upload and its link leaves): the next run removes it.
  head -c 5000 /dev/urandom >"$WORK/orphan"
  OD=sha256:$(sha256sum "$WORK/orphan" | cut -d' ' -f1)
  cp "$WORK/orphan" "$(blob_file "$OD")"
  touch -d '2 days ago' "$(blob_file "$OD")"
  gc
  check "a blob file without a database row is removed" test ! -e "$(blob_file "$OD")"
fi

# ====================================================================== 4.
if ! skip 4; then
  section uploads "4. upload sessions: uploads.max_age"
  # berth accepts no uploads.max_age below 60 s. A session is idle since the
  # last write to its file (its mtime): the old session's file is set back
  # 5 minutes instead of waiting.
  fresh uploads "${ZERO[@]}" BERTH_UPLOADS_MAX_AGE=60
  # start_upload: POST + one PATCH chunk; prints the Location.
  start_upload() {
    local loc
    loc=$(curl -s --cacert "$CACERT" -D - -o /dev/null -X POST "$BASE/v2/up/a/blobs/uploads/" |
      awk -F': ' 'tolower($1)=="location"{print $2}' | tr -d '\r')
    [[ $loc == /* ]] || loc=${loc#"$BASE"}
    head -c 1000 /dev/urandom >"$WORK/chunk"
    [[ $(code -X PATCH -H 'Content-Type: application/octet-stream' -H 'Content-Range: 0-999' \
      --data-binary @"$WORK/chunk" "$BASE$loc") == 202 ]] || echo "PATCH failed" >&2
    echo "$loc"
  }
  OLD=$(start_upload)
  expect_eq "an upload session with one chunk: status 204" 204 "$(code "$BASE$OLD")"
  OLD_ID=${OLD%%\?*}
  OLD_ID=${OLD_ID##*/}
  expect_eq "the old session has one file under uploads/" 1 "$(find "$ROOT/uploads" -name "$OLD_ID*" | wc -l)"
  find "$ROOT/uploads" -name "$OLD_ID*" -exec touch -d '5 minutes ago' {} +
  echo junk >"$ROOT/uploads/not-a-session"
  touch -d '2 days ago' "$ROOT/uploads/not-a-session"
  NEW=$(start_upload)
  expect_eq "files under uploads/ before GC: 2 sessions + 1 stray" 3 "$(find "$ROOT/uploads" -type f | wc -l)"
  gc
  gc_ok "uploads"
  expect_eq "the session idle for 5 min (> max_age 60 s) is gone: status 404" 404 "$(code "$BASE$OLD")"
  expect_eq "the fresh session survives: status 204" 204 "$(code "$BASE$NEW")"
  expect_eq "uploads/ holds only the fresh session's file" 1 "$(find "$ROOT/uploads" -type f | wc -l)"
  if [[ $(n .uploads_deleted) -ge 1 ]]; then pass "uploads_deleted reported ($(g .uploads_deleted))"; else
    fail "uploads_deleted reported (got $(g .uploads_deleted))"; fi
fi

# ====================================================================== 5.
if ! skip 5; then
  section dryrun "5. dry run"
  fresh dryrun "${ZERO[@]}"
  tool push-images dr/app --seed dr --indices 0-2 --prefix t --quiet --out "$WORK/dr.json"
  tool delete dr/app t0 >/dev/null
  tool delete dr/app t1 >/dev/null
  L=$(tool push-blob dr/app --seed drl | jq -r .digest)
  ( cd "$ROOT/blobs" && find . -type f | sort ) >"$WORK/dr.before"
  gc --dry-run
  gc_ok "dry run"
  cp "$WORK/gc.json" "$WORK/gc-dry.json"
  expect_eq "dry run: dry_run true" true "$(g .dry_run)"
  expect_eq "dry run: 2 untagged manifests would go" 2 "$(g .manifests_deleted)"
  expect_eq "dry run: the list names them" "$(jq -r 'select(.index < 2) | .digest' "$WORK/dr.json" | sort | xargs)" \
    "$(g '.manifests[].digest' | sort | xargs)"
  expect_eq "dry run: 7 links would go (2 x config + 2 layers, and the lone blob)" 7 "$(g .links_deleted)"
  expect_eq "dry run: 7 blob files would go" 7 "$(g .blobs_deleted)"
  ( cd "$ROOT/blobs" && find . -type f | sort ) >"$WORK/dr.after"
  check "dry run: no blob file was deleted" cmp -s "$WORK/dr.before" "$WORK/dr.after"
  expect_eq "dry run: the untagged manifests are still there" "200 200" \
    "$(jq -r 'select(.index < 2) | .digest' "$WORK/dr.json" | while read -r d; do tool status dr/app "$d"; done | xargs)"
  expect_eq "dry run: the lone blob is still there" 200 "$(tool blob-status dr/app "$L")"
  gc
  expect_eq "real run: dry_run false" false "$(g .dry_run)"
  for k in manifests_deleted links_deleted blobs_deleted bytes_freed; do
    expect_eq "real run: $k as the dry run said" "$(jq -r ".$k" "$WORK/gc-dry.json")" "$(g ".$k")"
  done
  expect_eq "real run: the untagged manifests and the lone blob are gone" "404 404 404" \
    "$(jq -r 'select(.index < 2) | .digest' "$WORK/dr.json" | while read -r d; do tool status dr/app "$d"; done | xargs) $(tool blob-status dr/app "$L")"
  check "real run: t2 still pulls" pulls dr/app t2
fi

# ====================================================================== 6.
if ! skip 6; then
  section retention "6. retention"
  cat >"$WORK/ret.yaml" <<'EOF'
retention:
  policies:
    - repositories: "ret/*"
      keep_last: 2
      keep_tags: "^v"
EOF
  START_ARGS=(-c "$WORK/ret.yaml")
  fresh retention "${ZERO[@]}"
  # v1, v2 first, then a1..a5, a second apart: the two most recent are a4, a5.
  pids=()
  for repo in ret/app other/app ret/deep/app; do
    (tool push-images "$repo" --seed "$repo-v" --indices 1-2 --prefix v --layers 1 --layer-size 2000 --sleep 1.05 --quiet &&
      tool push-images "$repo" --seed "$repo-a" --indices 1-5 --prefix a --layers 1 --layer-size 2000 --sleep 1.05 --quiet) ||
      echo "FAIL - push v1 v2 a1..a5 into $repo" &
    pids+=($!)
  done
  wait "${pids[@]}"
  tags() { curl -s --cacert "$CACERT" "$BASE/v2/$1/tags/list" | jq -r '.tags // [] | sort | join(" ")'; }
  gc --dry-run
  gc_ok "retention dry run"
  expect_eq "dry run lists a1 a2 a3 of ret/app, nothing else" "ret/app:a1 ret/app:a2 ret/app:a3" \
    "$(g '.tags[] | "\(.repository):\(.tag)"' | sort | xargs)"
  expect_eq "dry run: tags_deleted 3" 3 "$(g .tags_deleted)"
  expect_eq "dry run: every tag still there" "a1 a2 a3 a4 a5 v1 v2" "$(tags ret/app)"
  gc
  expect_eq "real run: tags_deleted 3" 3 "$(g .tags_deleted)"
  expect_eq "real run: ret/app keeps a4 a5 (keep_last 2) and v1 v2 (keep_tags ^v)" "a4 a5 v1 v2" "$(tags ret/app)"
  expect_eq "real run: other/app (no policy) keeps everything" "a1 a2 a3 a4 a5 v1 v2" "$(tags other/app)"
  expect_eq "real run: ret/deep/app (* stops at /) keeps everything" "a1 a2 a3 a4 a5 v1 v2" "$(tags ret/deep/app)"
  expect_eq "real run: the untagged a1..a3 manifests went too (untagged_delay 0)" 3 "$(g .manifests_deleted)"
  check "a4 still pulls" pulls ret/app a4
  check "v1 still pulls" pulls ret/app v1
  # retention.dry_run: a real run only reports.
  again "${ZERO[@]}" BERTH_RETENTION_DRY_RUN=true
  tool push-images ret/app --seed ret/app-a --indices 6-7 --prefix a --layers 1 --layer-size 2000 --sleep 1.05 --quiet
  gc
  expect_eq "retention.dry_run: a real run deletes no tag" "a4 a5 a6 a7 v1 v2" "$(tags ret/app)"
  expect_eq "retention.dry_run: ... and says what it would have deleted (a4 a5)" "ret/app:a4 ret/app:a5" \
    "$(g '.tags[]? | "\(.repository):\(.tag)"' | sort | xargs)"
  check "retention.dry_run: a4 still pulls" pulls ret/app a4

  # keep_days: tags pushed 3 days ago (berth under faketime), one of them
  # pulled today; a policy keep_last 1 + keep_days 1 keeps the last pushed
  # and the pulled one. Pull times are written in batches; a restart (SIGTERM)
  # flushes them.
  # (libfaketime preloaded into berth itself: the faketime program would
  # fork, and stop_berth would stop it instead of berth)
  FAKETIME_LIB=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1)
  if [[ -z $FAKETIME_LIB ]]; then fail "libfaketime is installed (apt-get install faketime)"; else
    cat >"$WORK/kd.yaml" <<'EOF'
retention:
  policies:
    - repositories: "kd/**"
      keep_last: 1
      keep_days: 1
EOF
    START_ARGS=(-c "$WORK/kd.yaml")
    stop_berth
    ROOT=$WORK/keepdays PORT=$(free_port)
    cat >"$WORK/berth-3-days-ago" <<EOF
#!/bin/sh
LD_PRELOAD=$FAKETIME_LIB FAKETIME=-3d FAKETIME_DONT_FAKE_MONOTONIC=1 exec "$BERTH_BIN" "\$@"
EOF
    chmod +x "$WORK/berth-3-days-ago"
    REAL_BIN=$BERTH_BIN
    BERTH_BIN=$WORK/berth-3-days-ago
    start_berth "$ROOT" "$PORT" "${ZERO[@]}" || { fail "berth starts under faketime"; summary; exit 1; }
    tool push-images kd/app --seed kd --indices 1-4 --prefix k --layers 1 --layer-size 2000 --sleep 1.05 --quiet
    BERTH_BIN=$REAL_BIN
    again "${ZERO[@]}"
    check "pull kd/app:k2 today" pulls kd/app k2
    again "${ZERO[@]}" # flushes the pull times
    gc --dry-run
    expect_eq "keep_days 1: the dry run would delete k1 and k3 (k4 is the last pushed, k2 was pulled today)" \
      "kd/app:k1 kd/app:k3" "$(g '.tags[]? | "\(.repository):\(.tag)"' | sort | xargs)"
    gc
    expect_eq "keep_days 1: k2 (pulled today) and k4 (keep_last 1) remain" "k2 k4" "$(tags kd/app)"
  fi
  START_ARGS=()
fi

# ====================================================================== 7.
if ! skip 7; then
  section quota "7. quotas"
  cat >"$WORK/quota.yaml" <<'EOF'
quota:
  namespaces:
    big: 10485760
    free: 0
EOF
  START_ARGS=(-c "$WORK/quota.yaml")
  Q=3145728
  fresh quota "${ZERO[@]}" BERTH_QUOTA_DEFAULT=$Q
  R=127.0.0.1:$PORT
  tool push-image q1/a t1 --seed q1a --layers 1 --layer-size 2097152 >"$WORK/q1a.json"
  check "a 2 MiB push into q1/a succeeds under a 3 MiB quota" jq -e .digest "$WORK/q1a.json" >/dev/null
  tool push-image q1/b t1 --seed q1b --layers 1 --layer-size 2097152 >"$WORK/q1b.json"
  expect_eq "a second, different 2 MiB push into q1/b is refused: 403" 403 "$(jq -r .status "$WORK/q1b.json")"
  expect_eq "... with code DENIED" DENIED "$(jq -r .code "$WORK/q1b.json")"
  msg=$(jq -r '.body | fromjson | .errors[0].message' "$WORK/q1b.json" 2>/dev/null)
  echo "   message: $msg"
  expect_contains "... and a message about the quota" quota "$msg"
  expect_contains "... that names the namespace" q1 "$msg"
  expect_contains "... and the quota in bytes" "$Q" "$msg"
  # The same blobs again in another repository of the namespace count once.
  tool push-image q1/c t1 --seed q1a --layers 1 --layer-size 2097152 >"$WORK/q1c.json"
  check "the same 2 MiB image into q1/c succeeds (a blob counts once per namespace)" jq -e .digest "$WORK/q1c.json" >/dev/null
  tool push-image q2/a t1 --seed q2a --layers 1 --layer-size 2097152 >"$WORK/q2a.json"
  check "another namespace (q2) has its own quota: 2 MiB push succeeds" jq -e .digest "$WORK/q2a.json" >/dev/null
  tool push-image big/a t1 --seed biga --layers 2 --layer-size 2621440 >"$WORK/biga.json"
  check "namespace big (override 10 MiB): a 5 MiB push succeeds" jq -e .digest "$WORK/biga.json" >/dev/null
  tool push-image free/a t1 --seed freea --layers 2 --layer-size 2621440 >"$WORK/freea.json"
  check "namespace free (override 0: no quota): a 5 MiB push succeeds" jq -e .digest "$WORK/freea.json" >/dev/null

  # usage = sum of the distinct blob sizes per namespace
  expected_usage() { jq -s '[.[] | select(.blobs) | .blobs | to_entries[]] | unique_by(.key) | map(.value) | add // 0' "$@"; }
  usage_of() { tool usage "$1" | jq -r "[.namespaces[]? | select(.namespace == \"$1\") | .$2] | first // \"none\""; }
  # (the refused push got its config in before the layer was refused)
  expect_eq "the refused push had uploaded only its config" 1 "$(jq '.blobs | length' "$WORK/q1b.json")"
  U1=$(expected_usage "$WORK/q1a.json" "$WORK/q1b.json" "$WORK/q1c.json")
  expect_eq "usage q1: used_bytes = sum of distinct blob sizes" "$U1" "$(usage_of q1 used_bytes)"
  expect_eq "usage q1: quota_bytes = the default" "$Q" "$(usage_of q1 quota_bytes)"
  expect_eq "usage q1: 3 repositories (q1/b holds the config of the refused push)" 3 "$(usage_of q1 repositories)"
  expect_eq "usage q1: 3 distinct blobs" 3 "$(usage_of q1 blobs)"
  expect_eq "usage big: used_bytes" "$(expected_usage "$WORK/biga.json")" "$(usage_of big used_bytes)"
  expect_eq "usage big: quota_bytes = the override" 10485760 "$(usage_of big quota_bytes)"
  expect_eq "usage free: quota_bytes 0" 0 "$(usage_of free quota_bytes)"
  expect_eq "usage of the whole registry lists q1 q2 big free" "big free q1 q2" \
    "$(tool usage | jq -r '[.namespaces[].namespace] | sort | join(" ")')"
  st=$(tool usage nosuch)
  expect_eq "usage of an unknown namespace: 404 NAME_UNKNOWN" "404 NAME_UNKNOWN" "$(jq -r '"\(.http_status) \(.errors[0].code)"' <<<"$st")"

  # Real clients get the quota message.
  use_private_container_config
  tool make-layout "$WORK/big-layout" v1 --size 4194304 >/dev/null
  timeout 120 skopeo copy --dest-cert-dir "$CERTDIR" "oci:$WORK/big-layout:v1" "docker://$R/q3/sk:v1" \
    >"$LOGS/sk-quota.out" 2>"$LOGS/sk-quota.err" </dev/null
  rc=$?
  echo "   skopeo said: $(grep -i quota "$LOGS/sk-quota.err" | head -1 | cut -c1-300)"
  check "skopeo copy of a 4 MiB image into q3 (quota 3 MiB) fails" test "$rc" -ne 0
  expect_contains "skopeo reports the quota message" "quota exceeded" "$(cat "$LOGS/sk-quota.out" "$LOGS/sk-quota.err")"
  if need podman; then
    # Into podman's (private) storage under a name of our choosing, then push.
    timeout 120 skopeo copy -q "oci:$WORK/big-layout:v1" containers-storage:localhost/quota/big:v1 \
      >"$LOGS/p-load.out" 2>&1 </dev/null || echo "   loading the image into podman's storage failed: $(tail -3 "$LOGS/p-load.out")"
    timeout 120 podman push --cert-dir "$CERTDIR" localhost/quota/big:v1 "docker://$R/q4/pod:v1" \
      >"$LOGS/p-quota.out" 2>"$LOGS/p-quota.err" </dev/null
    rc=$?
    echo "   podman said: $(grep -i quota "$LOGS/p-quota.err" | head -1 | cut -c1-300)"
    check "podman push of a 4 MiB image into q4 (quota 3 MiB) fails" test "$rc" -ne 0
    expect_contains "podman reports the quota message" "quota exceeded" "$(cat "$LOGS/p-quota.out" "$LOGS/p-quota.err")"
  fi

  # A manifest PUT while the namespace is over its quota.
  again "${ZERO[@]}" BERTH_QUOTA_DEFAULT=1048576
  expect_eq "usage q1 unchanged after a restart" "$U1" "$(usage_of q1 used_bytes)"
  expect_eq "usage q1: quota_bytes follows the new default" 1048576 "$(usage_of q1 quota_bytes)"
  m=$(curl -s --cacert "$CACERT" -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$BASE/v2/q1/a/manifests/t1")
  st=$(curl -s --cacert "$CACERT" -o "$WORK/q-put.json" -w '%{http_code}' -X PUT \
    -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "$m" "$BASE/v2/q1/a/manifests/t2")
  expect_eq "over quota (2 MiB of 1 MiB): a manifest PUT is refused: 403" 403 "$st"
  expect_eq "... DENIED" DENIED "$(jq -r '.errors[0].code' "$WORK/q-put.json")"
  expect_contains "... with the quota message" quota "$(jq -r '.errors[0].message' "$WORK/q-put.json")"
  check "reading is not limited: q1/a:t1 still pulls" pulls q1/a t1

  # Delete + GC lowers the usage; then the push fits again.
  again "${ZERO[@]}" BERTH_QUOTA_DEFAULT=$Q
  expect_eq "delete q1/c:t1's manifest" 202 "$(tool delete q1/c "$(jq -r .digest "$WORK/q1c.json")")"
  expect_eq "delete q1/a:t1's manifest" 202 "$(tool delete q1/a "$(jq -r .digest "$WORK/q1a.json")")"
  # (q1/b's lone config link goes too: gc.delay is 0)
  gc
  gc_ok "quota"
  U2=$(usage_of q1 used_bytes)
  echo "   usage q1: $U1 before, $U2 after delete + GC"
  if [[ $U2 == 0 || $U2 == none ]]; then pass "usage q1 after delete + GC: 0 (or the namespace is gone)"; else
    fail "usage q1 after delete + GC: 0 (got $U2)"; fi
  tool push-image q1/b t1 --seed q1b --layers 1 --layer-size 2097152 >"$WORK/q1b2.json"
  check "after GC, the refused 2 MiB push into q1/b succeeds" jq -e .digest "$WORK/q1b2.json" >/dev/null
  expect_eq "usage q1 = that image's blobs" "$(expected_usage "$WORK/q1b2.json")" "$(usage_of q1 used_bytes)"
  # shellcheck disable=SC2034
  START_ARGS=()
fi

# ====================================================================== 8.
if ! skip 8; then
  section skopeo "8. skopeo delete + GC + skopeo copy"
  if need skopeo; then
    fresh skopeo "${ZERO[@]}"
    R=127.0.0.1:$PORT
    use_private_container_config
    for t in t1 t2 t3; do
      tool make-layout "$WORK/sk-$t" "$t" --seed "sk-$t" --size 300000 >"$WORK/sk-$t.json"
      timeout 120 skopeo copy --dest-cert-dir "$CERTDIR" "oci:$WORK/sk-$t:$t" "docker://$R/sk/app:$t" \
        >"$LOGS/sk-$t.out" 2>"$LOGS/sk-$t.err" </dev/null || fail "skopeo copy -> sk/app:$t: $(tail -2 "$LOGS/sk-$t.err")"
    done
    for t in t1 t2; do
      check "skopeo delete sk/app:$t" timeout 120 skopeo delete --cert-dir "$CERTDIR" "docker://$R/sk/app:$t"
    done
    blobs_of "$WORK/sk-t1.json" "$WORK/sk-t2.json" >"$WORK/sk-gone.blobs"
    gc
    gc_ok "skopeo"
    expect_eq "GC removed the 4 blobs of t1 and t2" 4 "$(g .blobs_deleted)"
    expect_eq "their files are gone" 0 "$(present "$WORK/sk-gone.blobs")"
    rm -rf "$WORK/sk-back"
    check "skopeo copy sk/app:t3 -> dir: works after GC" \
      timeout 120 skopeo copy -q --src-cert-dir "$CERTDIR" "docker://$R/sk/app:t3" "dir:$WORK/sk-back"
    L3=$(jq -r '.blobs | to_entries | max_by(.value) | .key' "$WORK/sk-t3.json")
    check "the pulled layer is byte-identical" cmp -s "$WORK/sk-back/${L3:7}" "$WORK/sk-t3/blobs/sha256/${L3:7}"
  fi
fi

# ====================================================================== 9.
if ! skip 9; then
  section interval "9. background collection (gc.interval 1)"
  fresh interval BERTH_GC_INTERVAL=1 BERTH_GC_DELAY=0 BERTH_GC_UNTAGGED_DELAY=0
  D=$(tool push-blob bg/x --seed bg | jq -r .digest)
  st=200
  for _ in $(seq 1 50); do
    st=$(code -I "$BASE/v2/bg/x/blobs/$D")
    [[ $st == 404 ]] && break
    sleep 0.2
  done
  expect_eq "an unreferenced blob goes within 10 s without any POST (interval 1)" 404 "$st"
  check "... and its file too" test ! -e "$(blob_file "$D")"
fi

# ====================================================================== 10.
if ! skip 10; then
  section onerun "10. one run frees what it makes garbage, however long it takes"
  # 1200 untagged manifests and gc.batch 1: removing them takes more than a
  # second, and the links and files of every manifest the run removes must go
  # in the same run (gc.delay 0), not only those of the manifests removed in
  # its first second.
  fresh onerun "${ZERO[@]}" BERTH_GC_BATCH=1
  tool fill-garbage one/g --seed one --out "$WORK/one.json" --manifests 1200 --links 0 --threads 2
  blobs_of "$WORK/one.json" >"$WORK/one.blobs"
  expect_eq "1200 untagged manifests, 2400 blob files" 2400 "$(present "$WORK/one.blobs")"
  gc
  gc_ok "one run"
  expect_eq "the run removed the 1200 manifests" 1200 "$(g .manifests_deleted)"
  expect_eq "... and all their 2400 links" 2400 "$(g .links_deleted)"
  expect_eq "... and all their 2400 blob files" 0 "$(present "$WORK/one.blobs")"
fi

section end
echo "# timings"
printf '   %s\n' "${TIMES[@]}"
echo "   total $((SECONDS - T0)) s"
summary
