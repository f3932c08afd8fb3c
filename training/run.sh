#!/usr/bin/env bash
# Retrains Heed's embedded code model from scratch on one CUDA GPU, with fixed seeds:
# corpus (this Python installation + the npm packages of npm-packages.txt), tokenizer,
# token streams, training, export to a Hugging Face folder, evaluation, loss plot.
#
#   bash training/run.sh [--npm-archive FILE.tar.xz] [--work DIR] [--time-budget-s S] [--eval-parts loss,repo,needle]
#                        [--smoke] [--no-compile] [--continue-from MODEL_DIR] [--max-files-per-package N]
#                        [--finish-training-by EPOCH_S] [--long-fraction F] [--lr LR] [--copy-samples N4K,N16K]
#
# Without --npm-archive the packages are fetched with fetch_npm_corpus.sh (needs the npm
# registry). The model lands in WORK/export/heed-code-30m; logs and evals beside it.
#
# --continue-from models/heed-code-30m trains on from that checkpoint instead of from
# scratch: its tokenizer is used as it is (none is trained), the copy windows are fewer,
# the learning rate is lower and the default time budget is 300 s. For a device lease too
# short for a run from scratch. --max-files-per-package makes the corpus (and its
# preparation time) smaller. --finish-training-by (seconds since the epoch) sets the
# training budget, when training starts, to the time left until then (with --time-budget-s,
# only ever shorter): for a lease whose preparation time is not known in advance.
# --eval-parts none skips the evaluation.
# --long-fraction, --lr and --copy-samples replace a continued run's defaults (0.5, 3e-4,
# 8000,1200): a second continuation spends more of its time at 16k at a lower peak rate.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work=/tmp/heed-train
archive=""
budget=1150
budget_set=0
eval_parts=loss,repo,needle
smoke=0
compile=--compile
continue_from=""
max_files=0
finish_by=0
long_fraction=0.5
peak_lr=3e-4
copy_samples=8000,1200
while [ $# -gt 0 ]; do
  case "$1" in
    --npm-archive) archive="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --time-budget-s) budget="$2"; budget_set=1; shift 2 ;;
    --eval-parts) eval_parts="$2"; shift 2 ;;
    --smoke) smoke=1; shift ;;
    --no-compile) compile=""; shift ;;
    --continue-from) continue_from="$(cd "$2" && pwd)"; shift 2 ;;
    --max-files-per-package) max_files="$2"; shift 2 ;;
    --finish-training-by) finish_by="$2"; shift 2 ;;
    --long-fraction) long_fraction="$2"; shift 2 ;;
    --lr) peak_lr="$2"; shift 2 ;;
    --copy-samples) copy_samples="$2"; shift 2 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$work"
shape=()
copy=()
continued=()
if [ -n "$continue_from" ]; then
  [ -f "$continue_from/tokenizer.json" ] || { echo "run.sh: $continue_from has no tokenizer.json" >&2; exit 2; }
  # Fewer copy windows than from scratch (a few minutes of training see a fraction of them),
  # a tenth of the peak learning rate, a short warm-up, and half the run at 16k.
  copy=(--copy-samples "$copy_samples")
  continued=(--init-from "$continue_from" --lr "$peak_lr" --warmup 0.05 --long-fraction "$long_fraction" --copy-rate-short 0.3 --copy-rate-long 0.5)
  [ "$budget_set" = 1 ] || budget=300
fi
if [ "$smoke" = 1 ]; then
  shape=(--shape smoke --short-len 512 --long-len 1024 --batch-tokens 4096); preflight_tokens=2e4
  copy=(--copy-lengths 512,1024 --copy-samples 200,50)
fi
stage() { echo "=== $(date -u +%H:%M:%S) $*"; }
py() { PYTHONUNBUFFERED=1 "${PYTHON:-python3}" "$@"; }

# The preflight (GPU) runs beside the corpus stages (CPU); training waits for its verdict.
preflight() {
  if py "$here/train.py" --data "$work/preflight-data" --out "$work/preflight" "${shape[@]}" --target-tokens "${preflight_tokens:-4e6}" --long-fraction 0.5 --log-every 10 --eval-every 1000000 $compile; then
    echo "$compile" > "$work/preflight/compile"
  elif [ -n "$compile" ]; then
    echo "preflight: torch.compile failed; trying eagerly"
    py "$here/train.py" --data "$work/preflight-data" --out "$work/preflight" "${shape[@]}" --target-tokens "${preflight_tokens:-2e6}" --long-fraction 0.5 --log-every 10 --eval-every 1000000
    echo "" > "$work/preflight/compile"
  else
    return 1
  fi
}
stage "preflight: the model's training steps on this GPU, random tokens (log: $work/preflight.log)"
mkdir -p "$work/preflight-data"
py - "$work/preflight-data" <<'PY'
import json, sys, numpy as np
out = sys.argv[1]
rng = np.random.RandomState(0)
for name in ('train-1', 'train-2', 'heldout'):
    rng.randint(7, 16384, size=3_000_000).astype(np.uint16).tofile(f'{out}/{name}.u16')
special = dict(zip(['endoftext', 'fim_prefix', 'fim_middle', 'fim_suffix', 'fim_pad', 'repo_name', 'file_sep'], range(7)))
json.dump({'vocab_size': 16384, 'special_token_ids': special, 'streams': {}}, open(f'{out}/pack-summary.json', 'w'))
PY
preflight > "$work/preflight.log" 2>&1 &
preflight_pid=$!

npm_dir="$work/npm"
if [ -n "$archive" ]; then
  stage "npm packages from $archive"
  rm -rf "$npm_dir" && mkdir -p "$npm_dir" && tar -xJf "$archive" -C "$npm_dir"
else
  stage "npm packages from the registry"
  bash "$here/fetch_npm_corpus.sh" "$npm_dir"
fi

limit=()
tokenizer_mb=64
if [ "$max_files" != 0 ]; then limit=(--max-files-per-package "$max_files"); fi
if [ "$smoke" = 1 ]; then limit=(--max-files-per-package 20); tokenizer_mb=4; fi
stage "corpus"
py "$here/corpus.py" --npm-dir "$npm_dir" --out "$work/corpus" "${limit[@]}"
if [ -n "$continue_from" ]; then
  stage "tokenizer: $continue_from's, as it is"
  mkdir -p "$work/tokenizer" && cp "$continue_from/tokenizer.json" "$continue_from/tokenizer_config.json" "$work/tokenizer/"
else
  stage "tokenizer"
  py "$here/tokenizer_train.py" --corpus "$work/corpus/corpus.jsonl" --sample-mb "$tokenizer_mb" --out "$work/tokenizer"
fi
stage "token streams"
py "$here/pack.py" --corpus "$work/corpus/corpus.jsonl" --tokenizer "$work/tokenizer" --out "$work/packed" "${copy[@]}"
stage "training (waiting for the preflight)"
if ! wait "$preflight_pid"; then cat "$work/preflight.log"; echo "run.sh: the preflight failed" >&2; exit 1; fi
cat "$work/preflight.log"
compile="$(cat "$work/preflight/compile")"
if [ "$smoke" = 1 ]; then
  py "$here/train.py" --data "$work/packed" --out "$work/train" "${shape[@]}" --target-tokens 1e5 --long-fraction 0.5 --log-every 10 --eval-every 20 $compile "${continued[@]}"
else
  if [ "$finish_by" != 0 ]; then
    left=$((finish_by - $(date +%s)))
    [ "$left" -ge 30 ] || { echo "run.sh: $left s left for training at $(date -u +%H:%M:%S)" >&2; exit 1; }
    if [ "$budget_set" = 0 ]; then echo "run.sh: training budget $left s, to end by the time asked for"; budget=$left
    elif [ "$left" -lt "${budget%.*}" ]; then echo "run.sh: training budget $budget s cut to $left s"; budget=$left; fi
  fi
  py "$here/train.py" --data "$work/packed" --out "$work/train" --time-budget-s "$budget" $compile "${continued[@]}"
fi
stage "export"
py "$here/export.py" --checkpoint "$work/train/model.pt" --tokenizer "$work/tokenizer" --out "$work/export/heed-code-30m"
py "$here/plot_loss.py" --log "$work/train/train-log.jsonl" --title "heed-code-30m" --out "$work/export/loss.svg" || echo "run.sh: no loss plot (matplotlib missing?)"
stage "evaluation"
if [ "$eval_parts" = none ]; then
  echo "run.sh: no evaluation asked for"
elif [ "$smoke" = 1 ]; then
  py "$here/evaluate.py" --model "$work/export/heed-code-30m" --corpus "$work/corpus/corpus.jsonl" --heldout-stream "$work/packed/heldout.u16" --max-repo-cases 6 --needles-per-distance 2 --loss-tokens 100000 --parts "$eval_parts" --out "$work/eval"
else
  py "$here/evaluate.py" --model "$work/export/heed-code-30m" --corpus "$work/corpus/corpus.jsonl" --heldout-stream "$work/packed/heldout.u16" --parts "$eval_parts" --out "$work/eval"
fi
stage "done"
