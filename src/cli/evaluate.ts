/** `xait evaluate`: the paper's evaluation protocols (SPEC §4) and classification accuracy. */
import { usageError } from "../errors.js";
import { METHOD_IDS } from "../explain/index.js";
import { registerCommand } from "./commands.js";
import { runAccuracy } from "./evaluate-accuracy.js";
import { runConservation } from "./evaluate-conservation.js";
import { runPerturbation } from "./evaluate-perturbation.js";
import { runRationale } from "./evaluate-rationale.js";

const HELP = `Usage: xait evaluate <perturbation|conservation|rationale|accuracy> [options]

Evaluate explanations with the protocols of Ali et al. (2022) (docs: SPEC §4), or a model's accuracy.
Labelled files are .tsv (header), .csv or .jsonl; labels are class names of the model (any case) or
integer class ids (SST-2 / IMDB 0/1). The TRUE class is explained.

xait evaluate perturbation --model DIR --data FILE [--methods M,…|all] [--limit N | --sample N] [--seed S] [--out DIR] [--json]
  Input perturbation: for fractions 0, 0.1, …, 1 (n = ⌈k·N/10⌉ tokens, [CLS]/[SEP] counted),
  generate (start all-[UNK], put back the highest signed relevance first; AUAC, higher is better)
  and pruning (replace the smallest |relevance| by [UNK] first; AUPC higher is better, AU-MSE =
  Σ_classes (y₀ − y)² on the logits, lower is better); curves averaged over samples, then trapezoid
  areas. The perturbed inputs of a sample (22 per method, duplicates once) go through the model in
  one batch. The run-time line gives explanation time per method and the perturbed forward passes.
  --out DIR writes results.json, results.md (table, command, date, machine) and perturbation.svg
  (activation curve left, pruning MSE right).

xait evaluate conservation --model DIR --data FILE [--methods gi,lrp-ah,lrp,attnlrp] [--limit N | --sample N] [--out DIR] [--json]
  Per sentence Σ_t R_t against the explained logit f; per method Pearson r, mean |ΣR − f|, the
  least-squares slope of ΣR on f, n. --out DIR writes conservation.json (with every point),
  conservation.md and conservation.svg (scatter with the diagonal).

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
  --limit N takes the first N candidate texts. --out DIR writes rationale-<data>.json and .md.

xait evaluate accuracy --model DIR --data FILE [--limit N | --sample N] [--json]
  Accuracy, macro F1 and per-class precision / recall / F1 (by label name); batched inference.

Options:
  --model DIR          model folder (default: the bundled model)
  --data FILE          labelled data file (rationale: tweets | sst-trees)
  --methods M[,M…]     explanation methods or "all", -M leaves M out, e.g. all,-attention-flow
                       (default: all; conservation: gi,lrp-ah,lrp,attnlrp):
                       ${METHOD_IDS.join(", ")}
  --limit N            only the first N rows / texts
  --sample N           a fixed subset of N rows drawn with --seed, in file order (perturbation,
                       conservation, accuracy) — e.g. a balanced subset of a file sorted by label
  --seed S             seed of the random baseline (a fresh permutation per sample) and of the
                       held-out splits (default 42)
  --validation-fraction F  only the held-out fraction F of FILE, split with --seed exactly as
                       \`xait train --validation-fraction F --seed S\` splits it
  --gamma G            LRP-γ for lrp, lrp-ah, attnlrp (default 0)
  --steps N            Integrated Gradients steps (default 50)
  --text-column C      text column of FILE (default: sentence | text | review | sentence1)
  --label-column C     label column of FILE (default: label | sentiment)
  --skip-bad-rows      skip malformed rows of FILE (counted) instead of failing
  --threads N          worker threads of the wasm backend (default: all cores; XAIT_BACKEND=js for
                       the reference backend)
  --out DIR            write the report files into DIR
  --json               print one JSON object on stdout (progress and run time go to stderr)

Examples:
  xait evaluate perturbation --model models/sst2-xai-transformer --data $XAIT_DATA/sst2/validation.tsv --out reports/sst2
  xait evaluate perturbation --model models/sst2-bert --data $XAIT_DATA/sst2/validation.tsv --methods lrp,gi,random --limit 100 --json
  xait evaluate conservation --model models/sst2-xai-transformer --data $XAIT_DATA/sst2/validation.tsv --out reports/sst2
  xait evaluate rationale --model models/tweet-bert --data tweets --methods lrp,gi,attnlrp,random
  xait evaluate accuracy --model models/sst2-bert --data $XAIT_DATA/sst2/validation.tsv
  xait evaluate accuracy --model models/tweet-bert --data $XAIT_DATA/tweet-sentiment-extraction/train.csv --validation-fraction 0.1 --seed 42 --skip-bad-rows`;

const SUBCOMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  perturbation: runPerturbation,
  conservation: runConservation,
  rationale: runRationale,
  accuracy: runAccuracy,
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
