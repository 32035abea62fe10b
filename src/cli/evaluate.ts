/** `xait evaluate`: the paper's evaluation protocols and classification accuracy, resumable and sharded. */
import { usageError } from "../errors.js";
import { registerCommand } from "./commands.js";
import { ACCURACY_FLAGS, runAccuracy } from "./evaluate-accuracy.js";
import { DATA_FLAGS, METHOD_FLAGS, MODEL_FLAG } from "./evaluate-common.js";
import { runConservation } from "./evaluate-conservation.js";
import { COMPARE_FLAGS, runCompare } from "./evaluate-compare.js";
import { MERGE_FLAGS, runMerge } from "./evaluate-merge.js";
import { runPerturbation } from "./evaluate-perturbation.js";
import { runRationale } from "./evaluate-rationale.js";
import { RUN_FLAGS } from "./evaluate-skeleton.js";
import { flagHelp } from "./flags.js";

const HELP = `Usage: xait evaluate <perturbation|conservation|rationale|accuracy> [options]
       xait evaluate merge OUT SHARD_DIR… [--force] [--json]
       xait evaluate compare A_DIR B_DIR [--json]

Evaluate explanations with the protocols of Ali et al. (2022), or a model's accuracy.
Labelled files are .tsv (header), .csv or .jsonl; labels are class names of the model (any case) or
integer class ids (SST-2 / IMDB 0/1). The TRUE class is explained.

xait evaluate perturbation --model DIR --data FILE [--methods M,…|all] [--limit N | --sample N] [--seed S] [--out DIR] [--json]
  Input perturbation: for fractions 0, 0.1, …, 1 (n = ⌈k·N/10⌉ tokens, [CLS]/[SEP] counted),
  generate (start all-[UNK], put back the highest signed relevance first; AUAC, higher is better)
  and pruning (replace the smallest |relevance| by [UNK] first; AUPC higher is better, AU-MSE =
  Σ_classes (y₀ − y)² on the logits, lower is better); curves averaged over samples, then trapezoid
  areas. The perturbed inputs of a sample (22 per method, duplicates once) go through the model in
  one batch. The run-time line gives explanation time per method and the perturbed forward passes.
  --out DIR writes results.json, results.md (table; its "Run" section: command, date, machine,
  times), perturbation.svg (activation curve left, pruning MSE right) and perturbation-run.json
  (timings).

xait evaluate conservation --model DIR --data FILE [--methods gi,lrp-ah,lrp,attnlrp] [--limit N | --sample N] [--out DIR] [--json]
  Per sentence Σ_t R_t against the explained logit f; per method Pearson r, mean |ΣR − f|, the
  least-squares slope of ΣR on f, n. --out DIR writes conservation.json (with every point),
  conservation.md, conservation.svg (scatter with the diagonal) and conservation-run.json.

xait evaluate perturbation|conservation --next-token --model LM --data F[,F] [--validation-fraction F] [--window N] …
  A causal language model on raw text: each document (text column, or a whole .txt file) cut into
  windows of N tokens (default 64) followed by the true next token, which is explained; windows
  never cross documents. --validation-fraction F keeps the documents that \`xait train --task
  causal-lm --validation-fraction F --seed S\` held out; --limit / --sample pick windows. The
  explained (last) position is never perturbed; AU-MSE sums over the whole vocabulary.

xait evaluate rationale --model DIR --data tweets|sst-trees [--file FILE] [--methods …] [--limit N] [--seed S] [--out DIR] [--json]
  Agreement with human rationales: word-piece relevance summed to words; AUPRC and top-k F1
  (k = rationale length in words), means over texts; the \`random\` method is the chance baseline.
  tweets:    FILE default $XAIT_DATA/tweet-sentiment-extraction/train.csv; the positive and negative
             tweets of its held-out 10%: the rows read as \`xait train\` reads them (columns text and
             sentiment, malformed rows skipped, file order), split by splitDataset(rows, 0.1, --seed)
             — the same split as \`xait train --validation-fraction 0.1 --seed S --skip-bad-rows\`
             (default seed 42); rationale = the words of selected_text; the labelled class
             (positive/negative, matched to the model's labels in any case) is explained.
  sst-trees: FILE default $XAIT_DATA/sst-trees/dev.txt; binary sentences (root ≠ 2); rationale =
             the words labelled with the sentence's polarity (0-1 negative, 3-4 positive); the gold
             class is explained. Sentences with an empty rationale are skipped and counted.
  --limit N takes the first N candidate texts. --out DIR writes rationale-<data>.json, .md and
  rationale-<data>-run.json.

xait evaluate accuracy --model DIR --data FILE [--limit N | --sample N] [--out DIR] [--json]
  Accuracy, macro F1 and per-class precision / recall / F1 (by label name); batched inference
  (--block texts per forward pass, default ${ACCURACY_FLAGS.block.default}). --out DIR writes accuracy.json.

xait evaluate merge OUT SHARD_DIR…
  The --out folders of the shards of one evaluation (--shard 1/N … N/N) become one report in OUT,
  identical to a single run's (timings aside). Refused, naming the shard, when shards are missing,
  overlap, are incomplete, or come from another model, data, methods or options.

xait evaluate compare A_DIR B_DIR
  Two complete perturbation (or conservation) runs of the same model and data — e.g. one with
  --rule head.activation=identity — compared sample by sample: per method and metric the means of
  A and B, the mean of B − A and its 95 % paired bootstrap interval, and which run is better where
  the interval excludes 0 (conservation: |ΣR − f|, lower is better).

Every evaluation with --out DIR journals each sample as it is done (DIR/<evaluation>.journal.jsonl).
Ctrl-C or SIGTERM stops after the current sample (exit 130 / 143) and prints the command that
resumes it; --resume continues the journal and the report is the same as an uninterrupted run's.
--shard K/N runs one of N slices (blocks of --block consecutive samples dealt round-robin), e.g.
one per node of a Kubernetes Indexed Job or Slurm array (see deploy/ and docs/SCALE.md).

Options:
${flagHelp({ model: MODEL_FLAG, ...DATA_FLAGS })}
${flagHelp(METHOD_FLAGS)}
  (conservation: default gi,lrp-ah,lrp,attnlrp; perturbation and rationale: all)
  --data SET            rationale: tweets | sst-trees;  --file FILE  the set's file

Runs:
${flagHelp(RUN_FLAGS)}

Merge (xait evaluate merge OUT SHARD_DIR…):
${flagHelp(MERGE_FLAGS)}

Compare (xait evaluate compare A_DIR B_DIR):
${flagHelp(COMPARE_FLAGS)}

Examples:
  xait evaluate perturbation --model models/sst2-xai-transformer --data $XAIT_DATA/sst2/validation.tsv --out reports/sst2
  xait evaluate perturbation --model models/sst2-bert --data $XAIT_DATA/sst2/validation.tsv --methods lrp,gi,random --limit 100 --json
  xait evaluate conservation --model models/sst2-xai-transformer --data $XAIT_DATA/sst2/validation.tsv --out reports/sst2
  xait evaluate rationale --model models/tweet-bert --data tweets --methods lrp,gi,attnlrp,random
  xait evaluate accuracy --model models/sst2-bert --data $XAIT_DATA/sst2/validation.tsv
  xait evaluate perturbation --model models/imdb-xai-transformer --data $XAIT_DATA/imdb/test.jsonl --out reports/imdb-3 --shard 3/50 --resume
  xait evaluate merge reports/imdb reports/imdb-*
  xait evaluate compare reports/sst2-lrp reports/sst2-lrp-head-identity
  xait evaluate accuracy --model models/tweet-bert --data $XAIT_DATA/tweet-sentiment-extraction/train.csv --validation-fraction 0.1 --seed 42 --skip-bad-rows`;

const SUBCOMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  perturbation: runPerturbation,
  conservation: runConservation,
  rationale: runRationale,
  accuracy: runAccuracy,
  merge: runMerge,
  compare: runCompare,
};

async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const names = Object.keys(SUBCOMMANDS).join(", ");
  if (sub === undefined)
    throw usageError(`xait evaluate needs a subcommand: ${names} (see xait evaluate --help)`);
  const runSub = SUBCOMMANDS[sub];
  if (!runSub) throw usageError(`unknown evaluation '${sub}' (valid: ${names}; see xait evaluate --help)`);
  return runSub(rest);
}

registerCommand({
  name: "evaluate",
  summary: "evaluate explanations (perturbation, conservation, rationales) or model accuracy",
  help: HELP,
  run,
});
