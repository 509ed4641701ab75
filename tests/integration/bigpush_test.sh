#!/usr/bin/env bash
# A 4 GiB blob pushed as one streamed PATCH (chunked transfer encoding) must
# not raise berth's peak RSS by more than a few MiB: bodies are streamed to
# disk, never held. Then the blob is pulled back and its digest checked.
# BIG_PUSH_BYTES overrides the size (default 4 GiB).
source "$(dirname "$0")/lib.sh"

BYTES=${BIG_PUSH_BYTES:-4294967296}
LIMIT_KIB=${BIG_PUSH_RSS_LIMIT_KIB:-8192}
PORT=$(free_port)
start_berth "$WORK/root" "$PORT" || exit 1

hwm() { awk '/VmHWM/ {print $2}' "/proc/$BERTH_PID/status"; }
C=(curl -s --max-time 600 --cacert "$CACERT")

# Warm up: one small push so thread pools, TLS and SQLite are all in use.
small=$(printf 'warm-up' | sha256sum | cut -d' ' -f1)
"${C[@]}" -o /dev/null -X POST --data-binary 'warm-up' \
  "$BASE/v2/big/blob/blobs/uploads/?digest=sha256:$small"
before=$(hwm)

digest=$(head -c "$BYTES" /dev/zero | sha256sum | cut -d' ' -f1)
loc=$("${C[@]}" -D - -o /dev/null -X POST "$BASE/v2/big/blob/blobs/uploads/" |
  awk -F': ' 'tolower($1)=="location" {print $2}' | tr -d '\r')
start=$(date +%s.%N)
code=$(head -c "$BYTES" /dev/zero | "${C[@]}" -o /dev/null -w '%{http_code}' -X PATCH \
  -H 'Content-Type: application/octet-stream' -H 'Transfer-Encoding: chunked' \
  -T - "$BASE$loc")
expect_eq "streamed PATCH of $BYTES bytes accepted" 202 "$code"
code=$("${C[@]}" -o /dev/null -w '%{http_code}' -X PUT "$BASE$loc?digest=sha256:$digest")
end=$(date +%s.%N)
expect_eq "PUT completes the upload" 201 "$code"
after=$(hwm)
grow=$((after - before))
echo "push of $BYTES bytes: $(echo "$end - $start" | bc) s; peak RSS $before KiB -> $after KiB (+$grow KiB)"
if ((grow <= LIMIT_KIB)); then pass "peak RSS grew by ${grow} KiB (limit ${LIMIT_KIB} KiB)"; else
  fail "peak RSS grew by ${grow} KiB (limit ${LIMIT_KIB} KiB)"; fi

got=$("${C[@]}" "$BASE/v2/big/blob/blobs/sha256:$digest" | sha256sum | cut -d' ' -f1)
expect_eq "pulled blob has the pushed digest" "$digest" "$got"
after_pull=$(hwm)
echo "peak RSS after pulling it back: $after_pull KiB"
if ((after_pull - before <= LIMIT_KIB)); then pass "pull is streamed too"; else fail "pull raised RSS by $((after_pull - before)) KiB"; fi
summary
