#!/usr/bin/env bash
# Hermod and ejabberd 23.01 side by side, login and messages (BENCHMARKS.md, "Hermod and
# ejabberd side by side, 2026-11-27"): run five times on 2026-11-27, at commit 254f1d2
# (03:21 UTC, into 254f1d2/), twice at 9a966fe (03:59 UTC, into 9a966fe/ with the time
# series and charts; 04:09 UTC, into 9a966fe-rerun/), at 162fab2 (04:21 UTC, into
# 162fab2/; the same server code as 9a966fe) and at 672cdaf (04:45 UTC, into 672cdaf/;
# the latency histograms fed, two clock reads and an observation more per stanza).
set -u
cd "$(dirname "$0")/../../.."
bench/run-issue3.sh --out /tmp/side-by-side --servers hermod,ejabberd --reps 3 --scenarios login,messages
# The step runs of step-9a966fe/ (highest rate with p99 <= 5 ms), 04:06 UTC:
STEP_RATE=2500 bench/run-issue3.sh --out /tmp/side-by-side-step --servers hermod --reps 3 --scenarios max-message-rate
