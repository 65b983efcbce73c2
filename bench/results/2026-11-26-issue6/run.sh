#!/usr/bin/env bash
# Issue 6 figures: logins per backend (embedded vs MariaDB) and per auth method, MariaDB
# store micro-benchmarks (pipeline vs none). Run on a quiet machine.
set -u
OUT=${OUT:-/tmp/hermod-issue6}; mkdir -p $OUT
cd "$(dirname "$0")/../../.."
go build -o $OUT/hermod ./cmd/hermod && go build -o $OUT/hb ./bench/cmd/hermod-bench || exit 1
mysql -uroot -e 'DROP DATABASE IF EXISTS hermod_bench6; CREATE DATABASE hermod_bench6'
for be in embedded mysql; do
  D=$OUT/$be; rm -rf $D; mkdir -p $D
  cat > $D/hermod.toml <<CFG
[general]
hosts = ["localhost"]
data_dir = "$D/data"
loglevel = "warn"
[[listen.c2s]]
address = "127.0.0.1"
port = 27222
tls = "none"
[admin]
address = "127.0.0.1:27288"
[backends]
default = "$be"
[backends.mysql]
dsn = "root@tcp(127.0.0.1:3306)/hermod_bench6"
migrate_on_start = true
CFG
  for i in $(seq 1 500); do echo "login$i@localhost,password"; done > $D/users.csv
  if [ $be = mysql ]; then $OUT/hermod db migrate --config $D/hermod.toml | tail -1; fi
  $OUT/hermod user import $D/users.csv --config $D/hermod.toml | tail -1
  $OUT/hermod serve --config $D/hermod.toml > $D/serve.log 2>&1 &
  PID=$!
  sleep 3
  for mech in SCRAM-SHA-256 PLAIN; do
    for rep in 1 2 3; do
      $OUT/hb run --label "hermod-$be-login-$mech" --json $OUT/results.jsonl --server 127.0.0.1:27222 --server-pid $PID \
        --scenario login --mech $mech --user-prefix login --login-users 500 --concurrency 64 --duration 10s --csv none 2>/dev/null \
        | grep -E "^==|logins .* ok"
    done
  done
  kill $PID; wait $PID
done
go test ./engine/authmethods -run XXX -bench 'BenchmarkLogin|BenchmarkCheckPassword' -benchtime 2s -count 3 2>&1 | grep -E "^Benchmark|^ok" | tee $OUT/authmethods.txt
go test ./backends/mysql/ -run '^$' -bench . -benchtime 2s -count 3 2>&1 | grep -E "^Benchmark|^ok" | tee $OUT/mysql.txt
