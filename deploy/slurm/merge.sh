#!/bin/sh
# Merges the shard folders of evaluate-array.sh into one report in $RESULTS/merged; submit it
# with --dependency=afterok:<array job id>. Refuses, naming the shard, when one is missing or
# incomplete (rerun that array task: it resumes).
#SBATCH --job-name=xait-merge
#SBATCH --cpus-per-task=1
#SBATCH --mem=4G
#SBATCH --time=00:30:00
#SBATCH --output=xait-merge-%j.log
set -eu
XAIT="${XAIT:-xait}"
RESULTS="${RESULTS:-results/imdb-perturbation}"
# shellcheck disable=SC2086
exec $XAIT evaluate merge "$RESULTS/merged" "$RESULTS"/shard-*
