#!/usr/bin/env bash
# bench-nodes.sh measures turns/s and p99 with 1, 2 and 3 signoffd nodes on
# one real redis-server, all on free loopback ports, driven by
# `signoffctl bench` (recipient i is served by node i mod n, as a balancer
# routing by session would). Each run measures its own baseline (one Redis
# GET+SET behind a trivial HTTP handler, driven as hard), so the ratio
# printed is comparable across runs on a busy machine. Extra arguments go
# to the bench, e.g. deploy/bench-nodes.sh -n 3000 -c 32.
# Needs bin/signoffd and bin/signoffctl (make build).
set -euo pipefail
cd "$(dirname "$0")/.."

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
tmp=$(mktemp -d)
secret="whsec_$(head -c 24 /dev/urandom | base64)"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

rport=$(free_port)
redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp" --loglevel warning >"$tmp/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done

urls=()
for i in 1 2 3; do
	port=$(free_port)
	SIGNOFF_BLOB_DIR="$tmp/blobs$i" REDIS_URL="redis://127.0.0.1:$rport/0" SIGNOFF_ADDR="127.0.0.1:$port" \
		SIGNOFF_WEBHOOK_SECRET="$secret" SIGNOFF_LOG_LEVEL=warn SIGNOFF_RATE_LIMITS=off SIGNOFF_TTS=none SIGNOFF_ASR=none \
		bin/signoffd >"$tmp/signoffd$i.log" 2>&1 &
	pids+=($!)
	urls+=("http://127.0.0.1:$port")
	for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
done

printf '%-6s %10s %10s %10s %8s\n' nodes 'turns/s' 'p99 ms' 'base/s' ratio
for n in 1 2 3; do
	list=$(IFS=,; echo "${urls[*]:0:$n}")
	out=$(bin/signoffctl bench -json -url "$list" -secret "$secret" -redis "redis://127.0.0.1:$rport/1" "$@" 2>>"$tmp/bench.err")
	python3 -c '
import json, sys
r = json.loads(sys.argv[2])
t, b = r["turns"], r["baseline"]
print("%-6s %10.0f %10.1f %10.0f %8.2f" % (sys.argv[1], t["per_second"], t["p99_ms"], b["per_second"], r["ratio"]))
' "$n" "$out"
done
