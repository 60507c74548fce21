#!/usr/bin/env bash
# The full profile's two checks (issue 15), each a set of `entity-bert train` runs on
# the full splits, seed 13, fp32, written under results/full/checks/<check>/:
#
#   regime   Entity-BERT fine-tuned whole vs. in the `top` regime (the
#            encoder's top 2 of 6 layers trained over cached states of the 4 below),
#            the full profile's settings otherwise (Adam, encoder lr 1e-4, head lr 1e-3,
#            patience 3, at most 30 epochs). `top` may stand in for fine-tuning only
#            where it lands within 1 F1 of it on NCBI-disease and MACCROBAT2020.
#   harness  our BERT trained with run_ner.py's recipe (lr 5e-5 for every layer, linear
#            decay, 3 epochs, batch 8, the final model kept) beside the HF Trainer
#            reference itself: the harness is right if they land within about 1 F1.
#
#   scripts/full_checks.sh regime|harness [corpus ...]     (default: maccrobat2020 ncbi-disease)
#   entity-bert tables runs --runs results/full/checks/<check> --out results/full/checks/<check>.md
#
# A run whose result JSON exists is not trained again.
set -euo pipefail
check=$1; shift
corpora=("${@:-maccrobat2020}")
[ $# -eq 0 ] && corpora=(maccrobat2020 ncbi-disease)
runs=results/full/checks/$check
common=(--seed 13 --precision fp32 --runs-dir "$runs" --checkpoints-dir "checkpoints/full/checks/$check"
        --features-dir "data/features/full/checks")

train() {  # corpus model regime [options]: one run, unless its result is there
  local corpus=$1 model=$2 regime=$3; shift 3
  if compgen -G "$runs/${corpus}__*__${model}__${regime}__seed13.json" > /dev/null; then
    echo "done: $corpus $model $regime"; return
  fi
  entity-bert train --corpus "$corpus" --model "$model" --regime "$regime" "${common[@]}" "$@"
}

for corpus in "${corpora[@]}"; do
  case $check in
    regime)
      for regime in top finetune; do
        train "$corpus" entity-bert "$regime" --lr 1e-4 --head-lr 1e-3 --epochs 30 --patience 3
      done ;;
    harness)
      recipe=(--lr 5e-5 --lr-schedule linear --epochs 3 --batch-size 8)
      train "$corpus" hf-trainer finetune "${recipe[@]}"
      train "$corpus" bert finetune "${recipe[@]}" --patience 3 ;;
    *) echo "unknown check $check (regime or harness)" >&2; exit 2 ;;
  esac
done
