/** `xait explain`: explain predictions of a model for texts from the arguments or stdin. */
import { usageError } from "../errors.js";
import {
  explainMany,
  generate,
  METHOD_IDS,
  MAX_GENERATED,
  parseMethods,
  type Explanation,
  type Generation,
} from "../explain/index.js";
import { parseRuleList, SITES } from "../models/index.js";
import { loadModel } from "../models/folder-node.js";
import { chooseColorMode, renderTerminal } from "../report/terminal.js";
import { renderHtml } from "../report/html.js";
import { explanationJSON, generationJSON } from "../report/json.js";
import { backendInfo, initBackend } from "../tensor/backends.js";
import { setupNative, warnNotCompiled } from "../onnx/register-node.js";
import { registerCommand } from "./commands.js";
import { checkOutputFile, DEFAULT_MODEL, modelDir, readStdinLines, writeFileAtomic } from "./io.js";
import { flagHelp, GAMMA_FLAG, parseFlags, STEPS_FLAG, THREADS_FLAG, type FlagTable } from "./flags.js";

export const EXPLAIN_FLAGS = {
  model: {
    kind: "string",
    value: "DIR",
    help: `model folder (config.json, model.safetensors, tokenizer.json); default: the bundled\n${DEFAULT_MODEL}`,
  },
  method: {
    kind: "string",
    value: "M[,M…]",
    default: "lrp",
    help: `explanation methods; "all" for every one, -M to leave M out:\n${METHOD_IDS.slice(0, 7).join(", ")},\n${METHOD_IDS.slice(7).join(", ")}`,
  },
  target: {
    kind: "string",
    value: "C",
    help: "class index or label to explain (default: the predicted class; for a language\nmodel the most likely next token)",
  },
  "target-token": {
    kind: "string",
    value: "T",
    help: 'language model: explain this next token, given as text (exactly one token, e.g. " great")',
  },
  contrast: {
    kind: "string",
    value: "C",
    help: "explain logit(target) − logit(C): a class, or for a language model a token's text",
  },
  generate: {
    kind: "number",
    value: "N",
    integer: true,
    min: 1,
    max: MAX_GENERATED,
    help: "language model: greedily generate N tokens and explain each over all tokens before it",
  },
  pair: { kind: "string", value: "TEXT", help: "second text of a text pair" },
  rule: {
    kind: "string",
    value: "SITE=RULE",
    multiple: true,
    help: `override a site of the rule-set methods (lrp, lrp-ah, attnlrp, gi); repeatable or\ncomma-separated. Sites: ${SITES.slice(0, 4).join(", ")},\n${SITES.slice(4).join(", ")}. Rules: gradient, detach, identity, uniform,\ngamma:G (see docs/METHODS.md)`,
  },
  gamma: GAMMA_FLAG,
  steps: STEPS_FLAG,
  seed: { kind: "number", value: "S", integer: true, default: 0, help: "seed of the random baseline" },
  json: { kind: "boolean", help: "print one JSON object per text (nothing else on stdout)" },
  html: { kind: "string", value: "FILE", help: "also write a self-contained HTML report" },
  pieces: { kind: "boolean", help: "show word pieces (default: pieces joined into words, scores summed)" },
  threads: THREADS_FLAG,
  verbose: { kind: "boolean", help: "name the backend in use on stderr" },
} as const satisfies FlagTable;

const HELP = `Usage: xait explain [options] TEXT…

Explain the model's prediction for each TEXT (or for each line of stdin when no TEXT is given).

Options:
${flagHelp(EXPLAIN_FLAGS, 20)}

Examples:
  xait explain "a gripping, funny and moving film"
  xait explain --method lrp,gi,attnlrp "the plot is thin but the actors are great"
  xait explain --json --target NEGATIVE "not bad at all"
  echo "an utter waste of time" | xait explain --html report.html
  xait explain --rule head.activation=identity "a gripping film"
  xait explain --model GPT2_DIR --target-token " great" --contrast " bad" "The acting was"
  xait explain --model GPT2_DIR --generate 5 "The plot"`;

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(EXPLAIN_FLAGS, argv, { positionals: true });
  const methods = parseMethods(values.method);
  const { gamma, steps, seed, threads } = values;
  const steps_ = values.generate;
  const rules = parseRuleList(values.rule);
  if (values.html !== undefined) checkOutputFile("--html", values.html);
  const texts = positionals.length ? positionals : await readStdinLines();
  if (texts.length === 0)
    throw usageError("no text to explain (give TEXT arguments or lines on stdin; see xait explain --help)");
  for (const t of texts) if (!t.trim()) throw usageError("empty text: nothing to explain");
  const dir = modelDir(values.model);
  await initBackend({ threads });
  const warn = (m: string) => process.stderr.write(`warning: ${m}\n`);
  const native = setupNative({ ...(threads !== undefined ? { threads } : {}), warn });
  if (values.verbose) {
    const info = backendInfo();
    process.stderr.write(
      native
        ? `backend: native (onnxruntime-node ${native.ort.version}, ${native.threads} threads; methods that do not compile run on ${info.name})\n`
        : `backend: ${info.name} (${info.threads} threads)\n`,
    );
  }
  warnNotCompiled(methods, warn, backendInfo().name);
  const model = loadModel(dir);
  const target =
    values.target === undefined
      ? undefined
      : /^\d+$/.test(values.target)
        ? Number(values.target)
        : values.target;
  const inputs = texts.map((text): string | [string, string] =>
    values.pair !== undefined ? [text, values.pair] : text,
  );
  const contrast =
    values.contrast === undefined
      ? undefined
      : model.config.task === "causal-lm"
        ? values.contrast
        : /^\d+$/.test(values.contrast)
          ? Number(values.contrast)
          : values.contrast;
  const options = {
    methods,
    gamma,
    steps,
    seed,
    modelName: dir,
    warn,
    ...(Object.keys(rules).length ? { rules } : {}),
    ...(contrast !== undefined ? { contrast } : {}),
  };
  if (steps_ !== undefined) {
    if (values.target !== undefined || values["target-token"] !== undefined)
      throw usageError("--generate explains each generated token; drop --target / --target-token");
    if (values.pair !== undefined) throw usageError("--generate takes one text, not a pair");
    const generations = texts.map((t) => generate(model, t, steps_, options));
    return report(
      values,
      argv,
      dir,
      generations.flatMap((g) => g.steps),
      generations,
    );
  }
  const results: Explanation[] = explainMany(model, inputs, {
    ...options,
    ...(target !== undefined ? { target } : {}),
    ...(values["target-token"] !== undefined ? { targetToken: values["target-token"] } : {}),
  });
  return report(values, argv, dir, results);
}

function report(
  values: { html?: string; json?: boolean; pieces?: boolean },
  argv: string[],
  dir: string,
  results: Explanation[],
  generations?: Generation[],
): number {
  if (values.html) {
    const command = ["xait", "explain", ...argv]
      .map((a) => (/^[\w./=,-]+$/.test(a) ? a : JSON.stringify(a)))
      .join(" ");
    writeFileAtomic(values.html, renderHtml(results, { command, model: dir }));
    process.stderr.write(`wrote ${values.html}\n`);
  }
  if (values.json) {
    if (generations)
      for (const g of generations) process.stdout.write(JSON.stringify(generationJSON(g)) + "\n");
    else for (const r of results) process.stdout.write(JSON.stringify(explanationJSON(r)) + "\n");
  } else {
    const color = chooseColorMode(process.env, Boolean(process.stdout.isTTY));
    const render = (r: Explanation) => renderTerminal(r, { color, joinWords: !values.pieces });
    if (generations)
      process.stdout.write(
        generations
          .map(
            (g) =>
              `generated: ${JSON.stringify(g.generatedText)} after ${JSON.stringify(g.text)}\n\n` +
              g.steps.map((r, s) => `step ${s + 1}: ` + render(r)).join("\n"),
          )
          .join("\n") + "\n",
      );
    else process.stdout.write(results.map(render).join("\n") + "\n");
  }
  return 0;
}

registerCommand({
  name: "explain",
  summary: "explain a prediction: token relevance by LRP and baselines",
  help: HELP,
  run,
});
