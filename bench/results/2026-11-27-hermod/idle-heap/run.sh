#!/usr/bin/env bash
# Where an idle plaintext session's memory goes (BENCHMARKS.md, docs/design/09): 19,000
# sessions held for 40 s, Hermod's heap profile (sampling every 512 bytes) fetched after
# the trim and before the harness's final ping round, the runtime's MemStats beside it,
# and RssAnon/RssFile each second. Writes into this directory.
set -eu
OUT=$(cd "$(dirname "$0")" && pwd)
cd "$(dirname "$0")/../../../.."
ulimit -n "$(ulimit -Hn)"
D=$(mktemp -d /tmp/hermod-idle-heap.XXXXXX)
go build -o "$D/hermod" ./cmd/hermod && go build -o "$D/hb" ./bench/cmd/hermod-bench
cat > "$D/hermod.toml" <<CFG
[general]
hosts = ["localhost"]
data_dir = "$D/data"
loglevel = "warn"
[[listen.c2s]]
address = "127.0.0.1"
port = 27522
tls = "none"
[admin]
address = "127.0.0.1:27588"
CFG
for i in $(seq 1 19000); do echo "user$i@localhost,password"; done > "$D/users.csv"
"$D/hermod" user import "$D/users.csv" --config "$D/hermod.toml" | tail -1
GODEBUG=memprofilerate=512 "$D/hermod" serve --config "$D/hermod.toml" > "$D/serve.log" 2>&1 & PID=$!
sleep 2
(for i in $(seq 1 50); do
   [ -r /proc/$PID/status ] || break
   echo "t=$i $(awk '/RssAnon|RssFile/{printf "%s %s kB  ", $1, $2}' /proc/$PID/status)"; sleep 1
 done > "$OUT/rss.txt") &
"$D/hb" run --server 127.0.0.1:27522 --server-pid "$PID" --scenario idle --n 19000 --shards 2 \
  --rate 5000 --settle 40s --csv none 2>/dev/null | grep -E 'per session|kernel' > "$OUT/bench.txt" &
BENCH=$!
sleep 38
curl -sS -o "$OUT/heap.pprof" "http://127.0.0.1:27588/debug/pprof/heap"
curl -sS "http://127.0.0.1:27588/debug/pprof/heap?debug=1" | grep '^# ' | grep -v 'Pause' > "$OUT/memstats.txt"
wait "$BENCH" || true
go tool pprof -sample_index=inuse_space -top -nodecount=30 "$D/hermod" "$OUT/heap.pprof" > "$OUT/heap-top.txt" 2>/dev/null
kill "$PID"; wait "$PID" || true
rm -rf "$D"
