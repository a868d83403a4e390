#!/usr/bin/env bash
# bench.sh starts a real redis-server and signoffd on free loopback ports and
# drives them with `signoffctl bench`, which measures a GET+SET baseline
# against the same Redis in the same run. `bench.sh call` runs
# `signoffctl callbench` (voice call latencies) instead. Extra arguments go
# to the bench.
set -euo pipefail
cd "$(dirname "$0")/.."

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rport=$(free_port)
sport=$(free_port)
tmp=$(mktemp -d)
secret="whsec_$(head -c 24 /dev/urandom | base64)"
cleanup() {
	[[ -n ${spid:-} ]] && kill "$spid" 2>/dev/null || true
	[[ -n ${rpid:-} ]] && kill "$rpid" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp" --loglevel warning &
rpid=$!
for _ in $(seq 50); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done

mode=chat
if [[ ${1:-} == call ]]; then
	mode=call
	shift
fi

SIGNOFF_ICE_LOOPBACK=1 SIGNOFF_BLOB_DIR="$tmp/blobs" REDIS_URL="redis://127.0.0.1:$rport/0" SIGNOFF_ADDR="127.0.0.1:$sport" SIGNOFF_WEBHOOK_SECRET="$secret" \
	SIGNOFF_LOG_LEVEL=warn SIGNOFF_RATE_LIMITS="${SIGNOFF_RATE_LIMITS:-off}" SIGNOFF_DEBUG_ADDR="${SIGNOFF_DEBUG_ADDR:-}" bin/signoffd >"$tmp/signoffd.log" 2>&1 &
spid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$sport/readyz" >/dev/null && break; sleep 0.1; done

if [[ -n ${PROFILE:-} ]]; then (sleep "${PROFILE_DELAY:-1}"; curl -s "http://$SIGNOFF_DEBUG_ADDR/debug/pprof/profile?seconds=3" -o "$PROFILE") & fi
if [[ $mode == call ]]; then
	bin/signoffctl callbench -url "http://127.0.0.1:$sport" -secret "$secret" -server-pid "$spid" "$@"
	exit
fi
bin/signoffctl bench -url "http://127.0.0.1:$sport" -secret "$secret" -redis "redis://127.0.0.1:$rport/1" "$@"
