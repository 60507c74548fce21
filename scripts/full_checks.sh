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
#   mrc-lr   MRC with the layers above the encoder at lr 1e-3 (the profile's) and at 1e-4,
#            the full profile's settings otherwise, compared on dev F1: on MACCROBAT2020 its
#            cell at 1e-3 did not learn (training loss flat from epoch 3, dev F1 0.01-0.32),
#            and a per-system setting needs a dev-set reason (runs under head-lr-<lr>/).
#
#   scripts/full_checks.sh regime|harness|mrc-lr [corpus ...]
#       (default: maccrobat2020 ncbi-disease; mrc-lr: maccrobat2020)
#   ENTITY_BERT="python3 -m entity_bert.cli" scripts/full_checks.sh ...   (where the package is
#       on PYTHONPATH but not installed, e.g. a GPU machine: scripts/remote_kit.py)
#   entity-bert tables runs --runs results/full/checks/<check> --out results/full/checks/<check>.md
#
# A run whose result JSON exists is not trained again.
set -euo pipefail
check=$1; shift
corpora=("${@:-maccrobat2020}")
[ $# -eq 0 ] && corpora=(maccrobat2020 ncbi-disease)
[ $# -eq 0 ] && [ "$check" = mrc-lr ] && corpora=(maccrobat2020)
read -r -a entity_bert <<< "${ENTITY_BERT:-entity-bert}"

use_runs() {  # folder: where the runs go, under results/full/checks/
  runs=results/full/checks/$1
  common=(--seed 13 --precision fp32 --runs-dir "$runs" --checkpoints-dir "checkpoints/full/checks/$1"
          --features-dir "data/features/full/checks")
}
use_runs "$check"

train() {  # corpus model regime [options]: one run, unless its result is there
  local corpus=$1 model=$2 regime=$3; shift 3
  if compgen -G "$runs/${corpus}__*__${model}__${regime}__seed13.json" > /dev/null; then
    echo "done: $corpus $model $regime"; return
  fi
  "${entity_bert[@]}" train --corpus "$corpus" --model "$model" --regime "$regime" "${common[@]}" "$@"
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
    mrc-lr)
      for head_lr in 1e-3 1e-4; do
        use_runs "$check/head-lr-$head_lr"
        train "$corpus" mrc finetune --lr 1e-4 --head-lr "$head_lr" --epochs 30 --patience 3
      done ;;
    *) echo "unknown check $check (regime, harness or mrc-lr)" >&2; exit 2 ;;
  esac
done
