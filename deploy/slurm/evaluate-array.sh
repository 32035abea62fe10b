#!/bin/sh
# One evaluation as a Slurm job array: array task K of N runs shard K/N and writes its journal and
# results to $RESULTS/shard-K on a shared file system; a requeued or restarted task continues its
# journal (--resume). Then merge.sh (submitted with --dependency=afterok on this array). See
# docs/SCALE.md.
#   sbatch --array=1-50 deploy/slurm/evaluate-array.sh
#   sbatch --dependency=afterok:<array job id> deploy/slurm/merge.sh
#SBATCH --job-name=xait-eval
#SBATCH --array=1-50
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --time=12:00:00
#SBATCH --requeue
#SBATCH --output=xait-eval-%A-%a.log
set -eu

: "${SLURM_ARRAY_TASK_ID:?run this script as a Slurm array task (sbatch --array=1-N)}"
# N: the array's size (Slurm sets SLURM_ARRAY_TASK_COUNT); SHARDS overrides it
SHARDS="${SHARDS:-${SLURM_ARRAY_TASK_COUNT:-50}}"
XAIT="${XAIT:-xait}"
MODEL="${MODEL:-models/imdb-xai-transformer}"
DATA="${DATA:-${XAIT_DATA:-../shared/data}/imdb/test.jsonl}"
METHODS="${METHODS:-all,-attention-flow}"
SEED="${SEED:-42}"
RESULTS="${RESULTS:-results/imdb-perturbation}"
THREADS="${SLURM_CPUS_PER_TASK:-2}"

K="$SLURM_ARRAY_TASK_ID"
case "$K" in
  '' | *[!0-9]*) echo "error: SLURM_ARRAY_TASK_ID must be a number 1…$SHARDS, got '$K'" >&2; exit 2 ;;
esac
if [ "$K" -lt 1 ] || [ "$K" -gt "$SHARDS" ]; then
  echo "error: array task $K is outside 1…$SHARDS (submit with --array=1-$SHARDS)" >&2
  exit 2
fi

# shellcheck disable=SC2086 # XAIT may be a command with arguments ("node bin/xait.js")
exec $XAIT evaluate perturbation --model "$MODEL" --data "$DATA" --methods "$METHODS" --seed "$SEED" \
  --threads "$THREADS" --shard "$K/$SHARDS" --out "$RESULTS/shard-$K" --resume
