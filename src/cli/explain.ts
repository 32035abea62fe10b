/** `xait explain`: explain predictions of a model for texts from the arguments or stdin. */
import { parseArgs } from "node:util";
import { usageError } from "../errors.js";
import { explainMany, METHOD_IDS, parseMethods, type Explanation } from "../explain/index.js";
import { loadModel } from "../models/folder-node.js";
import { chooseColorMode, renderTerminal } from "../report/terminal.js";
import { renderHtml } from "../report/html.js";
import { initBackend } from "../tensor/backends.js";
import { registerCommand } from "./commands.js";
import {
  checkOutputFile,
  DEFAULT_MODEL,
  modelDir,
  numberFlag,
  readStdinLines,
  writeFileAtomic,
} from "./io.js";

const HELP = `Usage: xait explain [options] TEXT…

Explain the model's prediction for each TEXT (or for each line of stdin when no TEXT is given).

Options:
  --model DIR       model folder (config.json, model.safetensors, tokenizer.json); default: the bundled
                    ${DEFAULT_MODEL}
  --method M[,M…]   explanation methods (default: lrp); "all" for every one, -M to leave M out:
                    ${METHOD_IDS.join(", ")}
  --target C        class index or label to explain (default: the predicted class)
  --pair TEXT       second text of a text pair
  --gamma G         LRP-γ on the encoder's linear layers for lrp, lrp-ah, attnlrp (0 to 1000; default 0)
  --steps N         Integrated Gradients steps (1 to 10000; default 50)
  --seed S          seed of the random baseline (default 0)
  --json            print one JSON object per text (nothing else on stdout)
  --html FILE       also write a self-contained HTML report
  --pieces          show word pieces (default: pieces joined into words, scores summed)
  --threads N       worker threads of the wasm backend (default: all cores)

Examples:
  xait explain "a gripping, funny and moving film"
  xait explain --method lrp,gi,attnlrp "the plot is thin but the actors are great"
  xait explain --json --target NEGATIVE "not bad at all"
  echo "an utter waste of time" | xait explain --html report.html`;

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      model: { type: "string" },
      method: { type: "string", default: "lrp" },
      target: { type: "string" },
      pair: { type: "string" },
      gamma: { type: "string" },
      steps: { type: "string" },
      seed: { type: "string" },
      json: { type: "boolean", default: false },
      html: { type: "string" },
      pieces: { type: "boolean", default: false },
      threads: { type: "string" },
    },
  });
  const methods = parseMethods(values.method!);
  const gamma = numberFlag("gamma", values.gamma, { min: 0 });
  const steps = numberFlag("steps", values.steps, { integer: true, min: 1 });
  const seed = numberFlag("seed", values.seed, { integer: true });
  const threads = numberFlag("threads", values.threads, { integer: true, min: 1 });
  if (values.html !== undefined) checkOutputFile("--html", values.html);
  const texts = positionals.length ? positionals : await readStdinLines();
  if (texts.length === 0)
    throw usageError("no text to explain (give TEXT arguments or lines on stdin; see xait explain --help)");
  for (const t of texts) if (!t.trim()) throw usageError("empty text: nothing to explain");
  const dir = modelDir(values.model);
  await initBackend({ threads });
  const model = loadModel(dir);
  const target =
    values.target === undefined
      ? undefined
      : /^\d+$/.test(values.target)
        ? Number(values.target)
        : values.target;
  const warn = (m: string) => process.stderr.write(`warning: ${m}\n`);
  const inputs = texts.map((text): string | [string, string] =>
    values.pair !== undefined ? [text, values.pair] : text,
  );
  const results: Explanation[] = explainMany(model, inputs, {
    methods,
    target,
    gamma,
    steps,
    seed,
    modelName: dir,
    warn,
  });
  if (values.html) {
    const command = ["xait", "explain", ...argv]
      .map((a) => (/^[\w./=,-]+$/.test(a) ? a : JSON.stringify(a)))
      .join(" ");
    writeFileAtomic(values.html, renderHtml(results, { command, model: dir }));
    process.stderr.write(`wrote ${values.html}\n`);
  }
  if (values.json) {
    for (const r of results) process.stdout.write(JSON.stringify(toJSON(r)) + "\n");
  } else {
    const color = chooseColorMode(process.env, Boolean(process.stdout.isTTY));
    process.stdout.write(
      results.map((r) => renderTerminal(r, { color, joinWords: !values.pieces })).join("\n") + "\n",
    );
  }
  return 0;
}

/** The JSON of `xait explain --json` (SPEC / issue 5 format, plus the predicted class and timing). */
export function toJSON(r: Explanation): Record<string, unknown> {
  return {
    model: r.model,
    text: r.text,
    ...(r.pair !== undefined ? { pair: r.pair } : {}),
    tokens: r.tokens,
    ids: r.ids,
    logits: r.logits,
    probabilities: r.probabilities,
    target: r.target,
    label: r.label,
    predicted: r.predicted,
    predicted_label: r.predictedLabel,
    explanations: Object.fromEntries(
      Object.entries(r.explanations).map(([id, e]) => [
        id,
        {
          attributions: e.attributions,
          sum: e.sum,
          logit: e.logit,
          ...(e.layers ? { layers: e.layers } : {}),
          ms: e.ms,
        },
      ]),
    ),
  };
}

registerCommand({
  name: "explain",
  summary: "explain a prediction: token relevance by LRP and baselines",
  help: HELP,
  run,
});
