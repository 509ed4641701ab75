#!/usr/bin/env bash
# Crash safety: while several clients push blobs and manifests, berth is
# killed with SIGKILL at random moments (CRASH_KILLS times, default 20) and
# restarted on the same storage root. Afterwards every blob and manifest
# whose push got its 201 must be served with the right digest, and no file
# under blobs/ may hold anything but the content its name promises.
source "$(dirname "$0")/lib.sh"

KILLS=${CRASH_KILLS:-20}
CLIENTS=${CRASH_CLIENTS:-4}
PORT=$(free_port)
ROOT=$WORK/root
start_berth "$ROOT" "$PORT" || exit 1
STOP=$WORK/stop

# client N: pushes random blobs (some monolithic, some chunked) and an image
# manifest per blob, recording what was acknowledged.
client() {
  local n=$1 i=0 acked=$WORK/acked.$n
  local C=(curl -s --max-time 20 --cacert "$CACERT" -o /dev/null -w '%{http_code}')
  while [[ ! -e $STOP ]]; do
    i=$((i + 1))
    local f=$WORK/blob.$n size=$((RANDOM * 64 + RANDOM % 997))
    head -c "$size" /dev/urandom >"$f"
    local d
    d=sha256:$(sha256sum "$f" | cut -d' ' -f1)
    local repo=crash/c$n code
    if ((i % 2)); then
      code=$("${C[@]}" -X POST --data-binary @"$f" "$BASE/v2/$repo/blobs/uploads/?digest=$d")
    else
      local loc
      loc=$(curl -s --max-time 20 --cacert "$CACERT" -D - -o /dev/null -X POST \
        "$BASE/v2/$repo/blobs/uploads/" | awk -F': ' 'tolower($1)=="location"{print $2}' | tr -d '\r')
      [[ -n $loc ]] || continue
      code=$("${C[@]}" -X PATCH -H "Content-Range: 0-$((size - 1))" --data-binary @"$f" "$BASE$loc")
      [[ $code == 202 ]] || continue
      code=$("${C[@]}" -X PUT "$BASE$loc?digest=$d")
    fi
    [[ $code == 201 ]] || continue
    echo "blob $repo $d" >>"$acked"
    local cfg='{}' cd
    cd=sha256:$(printf '%s' "$cfg" | sha256sum | cut -d' ' -f1)
    code=$("${C[@]}" -X POST --data-binary "$cfg" "$BASE/v2/$repo/blobs/uploads/?digest=$cd")
    [[ $code == 201 ]] || continue
    local m
    m=$(printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%d}]}' "$cd" "$d" "$size")
    local md
    md=sha256:$(printf '%s' "$m" | sha256sum | cut -d' ' -f1)
    code=$("${C[@]}" -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
      --data-binary "$m" "$BASE/v2/$repo/manifests/t$i")
    [[ $code == 201 ]] && echo "manifest $repo t$i $md" >>"$acked"
  done
}

pids=()
for n in $(seq 1 "$CLIENTS"); do client "$n" & pids+=($!); done

deadline=$((SECONDS + 240))
# A cycle counts only when our SIGKILL ended a running berth (wait says
# 137 = 128 + 9) and the restart answered: a berth that had already died on
# its own (a crash of its own, not ours) or did not come back is a failure.
cycles=0
for k in $(seq 1 "$KILLS"); do
  sleep "0.$((RANDOM % 7 + 2))"
  kill -KILL "$BERTH_PID"
  wait "$BERTH_PID" 2>/dev/null
  rc=$?
  BERTH_PID=""
  ((rc == 137)) || echo "before kill $k berth had already exited by itself (status $rc); log ends: $(tail -1 "$ROOT.log")"
  start_berth "$ROOT" "$PORT" >/dev/null || { fail "restart $k"; break; }
  ((rc == 137)) && cycles=$((cycles + 1))
  ((SECONDS < deadline)) || { fail "crash loop took too long"; break; }
done
touch "$STOP"
wait "${pids[@]}"
expect_eq "$KILLS SIGKILLs to a running berth, each followed by a restart" "$KILLS" "$cycles"

blobs=0 manifests=0 bad=0
C=(curl -s --max-time 30 --cacert "$CACERT")
while read -r kind repo a b; do
  if [[ $kind == blob ]]; then
    got=sha256:$("${C[@]}" "$BASE/v2/$repo/blobs/$a" | sha256sum | cut -d' ' -f1)
    [[ $got == "$a" ]] && blobs=$((blobs + 1)) || { bad=$((bad + 1)); echo "lost blob $repo $a"; }
  else
    got=sha256:$("${C[@]}" "$BASE/v2/$repo/manifests/$a" | sha256sum | cut -d' ' -f1)
    [[ $got == "$b" ]] && manifests=$((manifests + 1)) || { bad=$((bad + 1)); echo "lost manifest $repo:$a"; }
  fi
done < <(cat "$WORK"/acked.* 2>/dev/null)
echo "acknowledged and verified after $KILLS crashes: $blobs blobs, $manifests manifests"
expect_eq "every acknowledged push survived" 0 "$bad"
if ((blobs > 20 && manifests > 10)); then pass "enough pushes got through ($blobs/$manifests)"; else
  fail "too few pushes got through to prove anything ($blobs/$manifests)"; fi

# No partial blob: each file under blobs/ must hash to its own name.
corrupt=0 files=0
while read -r f; do
  files=$((files + 1))
  [[ $(sha256sum "$f" | cut -d' ' -f1) == "$(basename "$f")" ]] || { corrupt=$((corrupt + 1)); echo "bad file $f"; }
done < <(find "$ROOT/blobs/sha256" -type f)
echo "checked $files blob files"
# Every acknowledged blob has its file there; without files the check below
# would pass on nothing (a blobs/ folder moved elsewhere).
if ((files > 0 && files >= blobs)); then pass "blob files found under blobs/sha256 ($files)"; else
  fail "too few blob files under blobs/sha256 to check ($files for $blobs acknowledged blobs)"; fi
expect_eq "no blob file holds partial or wrong content" 0 "$corrupt"
summary
