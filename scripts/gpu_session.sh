#!/usr/bin/env bash
# Train cells on a lent GPU machine (the `device` tool) over the calls of one lease.
#
#   here:    python scripts/remote_kit.py pack              # .kit/1, .kit/2, .kit/3: one part a call
#   there, one call each, back to back (an idle machine goes back after 30 s):
#     call 1, carry .kit/1:  scripts/gpu_session.sh part 1
#     call 2, carry .kit/2:  scripts/gpu_session.sh part 2
#     call 3, carry .kit/3:  scripts/gpu_session.sh part 3 && scripts/gpu_session.sh start DEADLINE CELL... \
#                            && scripts/gpu_session.sh peek SECONDS        # (timeout_s above SECONDS)
#     call 4:                scripts/gpu_session.sh finish [SECONDS]      # waits for DEADLINE, returns files
#   here:    python scripts/remote_cells.py record /work/.device/<call>/cells.tar.gz
#
# Why a copy: each call copies this working tree there again and drops the files it does not
# have here, among them the results of a run still going (on 2026-11-28 that lost a finished
# cell). So the cells train in a copy of the project under /tmp/work, the kit's parts are
# gathered under /tmp/kit, and `start` returns at once: training runs on in its own process
# session (setsid) until DEADLINE seconds, across calls. `peek` waits, then returns what has
# finished so far (cells.tar.gz, epochs.json), so a lost call 4 loses only the later cells.
# WORKERS (default 10) cells train at once.
set -euo pipefail
work=/tmp/work kit=/tmp/kit out=/tmp/out
case ${1:-} in
  part)
    mkdir -p "$kit" && cp -r ".kit/$2" "$kit/" ;;
  start)
    deadline=$2; shift 2
    rm -rf "$work" "$out" && mkdir -p "$work" "$out"
    tar --exclude=./.kit --exclude=./.git --exclude=./.venv -cf - . | tar -xf - -C "$work"
    python3 "$work/scripts/remote_kit.py" unpack --kit "$kit"
    nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
    touch "$out/running"
    train="python3 scripts/remote_cells.py train --workers ${WORKERS:-10} --deadline $deadline"
    train+=" --out $out --logs $out/logs --cells $*"
    cd "$work" && PYTHONPATH="$work:$kit/site" setsid nohup bash -c \
      "$train > $out/train.log 2>&1; rm -f $out/running" < /dev/null > /dev/null 2>&1 & ;;
  peek)
    sleep "$2"; tail -c 8000 "$out/train.log" || true
    cp "$out/cells.tar.gz" "$out/epochs.json" "$OUT/" 2>/dev/null || true ;;
  finish)  # [SECONDS]: wait for the deadline, or at most SECONDS (keep them under the call's timeout_s)
    waited=0
    while [ -e "$out/running" ] && [ "$waited" -lt "${2:-999999}" ]; do sleep 2; waited=$((waited + 2)); done
    tail -c 8000 "$out/train.log" || true
    tar czf "$OUT/logs.tgz" -C "$out" logs train.log
    cp "$out/cells.tar.gz" "$out/epochs.json" "$OUT/" 2>/dev/null || true ;;
  *)
    echo "usage: $0 part N | start DEADLINE CELL... | peek SECONDS | finish [SECONDS]" >&2; exit 2 ;;
esac
