#!/usr/bin/env bash
# Run 2: Hermod with the final binary, the issue-3 scenarios and max-message-rate, then
# idle baselines without rosters at the roster-login sizes.
set -u
cd "$(dirname "$0")/../../.."
STEP_RATE=2500 bench/run-issue3.sh --out /tmp/hermod-final --servers hermod --reps 1 --reps19k 1 \
  --scenarios idle,login,messages,max-message-rate > /tmp/hermod-final.log 2>&1
# Baselines: same sizes as roster-login, accounts without rosters.
D=/tmp/hermod-final-base; rm -rf $D; mkdir -p $D
go build -o $D/hermod ./cmd/hermod && go build -o $D/hb ./bench/cmd/hermod-bench
cat > $D/hermod.toml <<CFG
[general]
hosts = ["localhost"]
data_dir = "$D/data"
loglevel = "warn"
[[listen.c2s]]
address = "127.0.0.1"
port = 27322
tls = "none"
[admin]
address = "127.0.0.1:27388"
CFG
for i in $(seq 1 1000); do echo "user$i@localhost,password"; done > $D/users.csv
$D/hermod user import $D/users.csv --config $D/hermod.toml | tail -1
for n in 101 500; do
  for rep in 1 2 3; do
    $D/hermod serve --config $D/hermod.toml > $D/serve.log 2>&1 &
    PID=$!; sleep 2
    $D/hb run --label "hermod-idle-norosters@$n" --json $D/results.jsonl --server 127.0.0.1:27322 --server-pid $PID \
      --scenario idle --n $n --shards 1 --rate 1000 --settle 15s --csv none 2>/dev/null | grep -E "^==|per session|per login|logins so far"
    kill $PID; wait $PID
  done
done
