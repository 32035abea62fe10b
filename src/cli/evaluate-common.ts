/** Shared pieces of the `xait evaluate` subcommands: data, progress, run-time lines, tables, report files. */
import { cpus, platform, release } from "node:os";
import { join } from "node:path";
import { usageError } from "../errors.js";
import { getMethod, METHOD_IDS, parseMethods } from "../explain/index.js";
import type { BootstrapResult } from "../evaluate/bootstrap.js";
import { labelIds, type LabelledText } from "../evaluate/labels.js";
import type { MethodTiming } from "../evaluate/timing.js";
import { getAccelerator, type TransformerModel } from "../models/index.js";
import { backendInfo } from "../tensor/backends.js";
import { readDatasetFile } from "../train/data-node.js";
import { seededSubset, splitDataset } from "../train/data.js";
import { GAMMA_FLAG, numberValue, STEPS_FLAG, type FlagTable } from "./flags.js";
import { writeFileAtomic } from "./io.js";

/** Flags of every subcommand reading a labelled data file. */
export const DATA_FLAGS = {
  data: { kind: "string", value: "FILE", help: "labelled data file (.tsv with header, .csv or .jsonl)" },
  limit: { kind: "number", value: "N", integer: true, min: 1, help: "only the first N rows" },
  sample: {
    kind: "number",
    value: "N",
    integer: true,
    min: 1,
    help: "a fixed subset of N rows drawn with --seed, in file order (e.g. a balanced\nsubset of a file sorted by label)",
  },
  seed: {
    kind: "number",
    value: "S",
    integer: true,
    min: 0,
    default: 42,
    help: "seed of the random baseline (a fresh permutation per sample), of --sample, of the\nheld-out splits and of the bootstrap",
  },
  "validation-fraction": {
    kind: "number",
    value: "F",
    min: 0,
    max: 0.9,
    help: "only the held-out fraction F of FILE, split with --seed exactly as\n`xait train --validation-fraction F --seed S` splits it",
  },
  "text-column": {
    kind: "string",
    value: "C",
    help: "text column of FILE [sentence | text | review | sentence1]",
  },
  "label-column": { kind: "string", value: "C", help: "label column of FILE [label | sentiment]" },
  "skip-bad-rows": { kind: "boolean", help: "skip malformed rows of FILE (counted) instead of failing" },
} as const satisfies FlagTable;

/** Flags of every subcommand that explains with a choice of methods. */
export const METHOD_FLAGS = {
  methods: {
    kind: "string",
    value: "M[,M…]",
    help: `explanation methods or "all"; -M leaves M out, e.g. all,-attention-flow:\n${METHOD_IDS.slice(0, 7).join(", ")},\n${METHOD_IDS.slice(7).join(", ")}`,
  },
  method: { kind: "string", value: "M[,M…]", help: "the same as --methods" },
  gamma: GAMMA_FLAG,
  rule: {
    kind: "string",
    value: "SITE=RULE[,…]",
    help: "override rule sites of lrp, lrp-ah, attnlrp, gi (e.g. head.activation=identity;\nsee docs/METHODS.md)",
  },
  steps: STEPS_FLAG,
} as const satisfies FlagTable;

/** --model DIR. */
export const MODEL_FLAG = {
  kind: "string",
  value: "DIR",
  help: "model folder (default: the bundled model)",
} as const satisfies FlagTable[string];

/** The data flags that change which samples are evaluated, for a run's identity. */
export function dataOptions(flags: DataFlags): Record<string, string | number | boolean | null> {
  return {
    limit: flags.limit ?? null,
    sample: flags.sample ?? null,
    "validation-fraction": flags["validation-fraction"] ?? null,
    "text-column": flags["text-column"] ?? null,
    "label-column": flags["label-column"] ?? null,
    "skip-bad-rows": flags["skip-bad-rows"] ?? false,
  };
}

export interface DataFlags {
  data?: string;
  limit?: string | number;
  sample?: string | number;
  "text-column"?: string;
  "label-column"?: string;
  "skip-bad-rows"?: boolean;
  "validation-fraction"?: string | number;
  seed?: string | number;
}

/** A numeric flag given parsed (a number) or as typed (a string, checked here). */
function numeric(
  name: string,
  v: string | number | undefined,
  opts: { integer?: boolean; min?: number; max?: number },
): number | undefined {
  return typeof v === "number" || v === undefined ? v : numberValue(name, v, opts);
}

/** The kernel backend in use, e.g. "wasm, 4 threads". */
export function backendLine(): string {
  const b = backendInfo();
  const acc = getAccelerator();
  return `${acc ? `${acc.name} (compiled methods; the others on ${b.name}), ` : ""}${b.name}, ${b.threads} thread${b.threads === 1 ? "" : "s"}${b.fallback ? ` (wasm unavailable: ${b.fallback})` : ""}`;
}

/**
 * The first --limit rows (or a seeded --sample of rows) of a labelled file with their true classes as the model's class ids
 * (label names matched against the model's labels; integer labels are class ids).
 */
export function readLabelledFile(
  model: TransformerModel,
  flags: DataFlags,
): { samples: LabelledText[]; skippedRows: number } {
  if (!flags.data)
    throw usageError("--data FILE is required (a .tsv, .csv or .jsonl file with text and label columns)");
  const limit = numeric("limit", flags.limit, { integer: true, min: 1 });
  const sample = numeric("sample", flags.sample, { integer: true, min: 1 });
  if (limit !== undefined && sample !== undefined) throw usageError("give --limit N or --sample N, not both");
  const ds = readDatasetFile(flags.data, {
    skipBadRows: flags["skip-bad-rows"],
    textColumn: flags["text-column"],
    labelColumn: flags["label-column"],
  });
  if (ds.skipped) process.stderr.write(`skipped ${ds.skipped} malformed row(s) of ${flags.data}\n`);
  // --validation-fraction F: only the held-out part of the file, split exactly as `xait train` splits it
  const fraction = numeric("validation-fraction", flags["validation-fraction"], { min: 0, max: 0.9 });
  const seed = numeric("seed", flags.seed, { integer: true, min: 0 }) ?? 42;
  const examples =
    fraction === undefined ? ds.examples : splitDataset(ds.examples, fraction, seed).validation;
  const rows =
    sample !== undefined
      ? seededSubset(examples, sample, seed).chosen
      : limit === undefined
        ? examples
        : examples.slice(0, limit);
  if (rows.length === 0) throw usageError(`${flags.data}: no labelled rows to evaluate`);
  const ids = labelIds(model, rows);
  const samples = rows.map((e, i) => ({
    text: e.text,
    ...(e.pair !== undefined ? { pair: e.pair } : {}),
    label: ids[i]!,
  }));
  return { samples, skippedRows: ds.skipped };
}

/** --methods (or --method): a list, "all", "-id" to leave one out; unknown ids are usage errors. */
export function methodsFlag(values: { methods?: string; method?: string }, fallback: string): string[] {
  return parseMethods(values.methods ?? values.method ?? fallback);
}

/**
 * Progress on stderr: on a TTY one line rewritten in place (`\r`), else a plain line at every 5 %
 * step (at most one per 2 s) and at least every 30 s; nothing when XAIT_QUIET=1.
 */
export function evaluationProgress(label: string): {
  update(done: number, total: number): void;
  done(): void;
} {
  const started = performance.now();
  const info = (done: number, total: number): string => {
    const s = (performance.now() - started) / 1000;
    const left = done > 0 ? (s / done) * (total - done) : NaN;
    return `${formatSeconds(s)} elapsed${Number.isFinite(left) && done < total ? `, ~${formatSeconds(left)} left` : ""}`;
  };
  if (process.env.XAIT_QUIET === "1") return { update() {}, done() {} };
  if (process.stderr.isTTY) {
    // one line, rewritten in place (at most every 100 ms), cleared at the end
    let last = -Infinity;
    let shown = false;
    return {
      update(done, total) {
        const now = performance.now();
        if (now - last < 100 && done !== total) return;
        last = now;
        shown = true;
        process.stderr.write(
          `\r\x1b[K${label}: ${done}/${total} (${((100 * done) / total).toFixed(0)}%) ${info(done, total)}`,
        );
      },
      done() {
        if (shown) process.stderr.write("\r\x1b[K");
        shown = false;
      },
    };
  }
  let lastStep = 0;
  let lastTime = started;
  return {
    update(done, total) {
      const step = Math.floor((20 * done) / total);
      const now = performance.now();
      const since = now - lastTime;
      // a line per 5 % step (at most one every 2 s: short runs stay quiet), at least one every 30 s
      if (!((step > lastStep && since >= 2000) || since >= 30_000)) return;
      lastStep = step;
      lastTime = now;
      process.stderr.write(
        `${label}: ${done}/${total} (${((100 * done) / total).toFixed(0)}%) ${info(done, total)}\n`,
      );
    },
    done() {},
  };
}

/** A duration for people: "850 ms", "12.5 s", "11 min 0 s", "1 h 5 min" (rounded before it is split). */
export function formatSeconds(s: number): string {
  if (Math.round(s * 1000) < 1000) return `${Math.round(s * 1000)} ms`;
  if (Math.round(s * 10) < 600) return `${(Math.round(s * 10) / 10).toFixed(1)} s`;
  const whole = Math.round(s);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  const minutes = Math.round(s / 60);
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Explanation time per method, e.g. "lrp 1.2 s (3.4 ms/sample), gi 0.9 s (2.6 ms/sample)". */
export function methodTimes(
  methods: readonly string[],
  timing: Record<string, MethodTiming>,
  unit = "sample",
): string {
  return methods
    .map(
      (id) =>
        `${id} ${formatSeconds(timing[id]!.total_s)} (${timing[id]!.per_sample_ms.toFixed(1)} ms/${unit})`,
    )
    .join(", ");
}

/** The machine a run was measured on: CPU model, cores, Node version, OS. */
export function machine(): string {
  const cpu = cpus();
  return `${cpu[0]?.model?.trim() ?? "unknown CPU"}, ${cpu.length} cores, Node ${process.version}, ${platform()} ${release()}`;
}

/** The command line as typed, shell-quoted where needed. */
export function commandLine(args: readonly string[]): string {
  return ["xait", ...args].map((a) => (/^[\w./=,:@+-]+$/.test(a) ? a : JSON.stringify(a))).join(" ");
}

/** A plain-text table: columns padded, numbers right-aligned. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const numeric = header.map((_, c) => rows.length > 0 && rows.every((r) => /^[-\d.]+$|^NaN$/.test(r[c]!)));
  const line = (cells: readonly string[]) =>
    cells
      .map((v, c) => (numeric[c] ? v.padStart(widths[c]!) : v.padEnd(widths[c]!)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** A Markdown table; numeric columns right-aligned. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const numeric = header.map((_, c) => rows.length > 0 && rows.every((r) => /^[-\d.]+$|^NaN$/.test(r[c]!)));
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  return [
    `| ${header.map(esc).join(" | ")} |`,
    `|${numeric.map((n) => (n ? "---:" : "---")).join("|")}|`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}

/** A number with fixed decimals; NaN stays "NaN". */
export function fixed(v: number, decimals = 3): string {
  return Number.isFinite(v) ? v.toFixed(decimals) : String(v);
}

/** A mean with its bootstrap interval: "0.875 (0.866–0.884)". */
export function withInterval(v: number, interval: readonly [number, number], decimals = 3): string {
  return `${fixed(v, decimals)} (${fixed(interval[0], decimals)}–${fixed(interval[1], decimals)})`;
}

/**
 * One line per metric: its best method and the methods that cannot be told apart from it (the
 * paired bootstrap interval of their difference to the best contains 0).
 */
function separabilityLines(
  b: BootstrapResult<string>,
  labels: Readonly<Record<string, string>>,
  name: (id: string) => string,
): string[] {
  return Object.entries(b.metrics).map(([metric, c]) => {
    const tied = c.tied.length
      ? `not separable from it: ${c.tied.map(name).join(", ")}`
      : "separable from every other method";
    return `${labels[metric] ?? metric}: best ${name(c.best)}; ${tied}`;
  });
}

/**
 * The Markdown lines under a report's table: how the intervals were made, then one bullet per metric
 * (methods by title). `unit` names what was resampled ("samples", "texts").
 */
export function bootstrapMarkdown(
  b: BootstrapResult<string>,
  labels: Readonly<Record<string, string>>,
  seed: number,
  unit: string,
): string[] {
  return [
    `In parentheses: ${Math.round(b.level * 100)} % percentile bootstrap intervals over the ${unit} ` +
      `(${b.resamples} resamples, seed ${seed}). Paired with the best method of each column (the same ` +
      `resampled ${unit} for every method), a method is not separable from the best when the interval ` +
      `of its difference to the best contains 0:`,
    "",
    ...separabilityLines(b, labels, (id) => getMethod(id).title).map((l) => `- ${l}`),
  ];
}

/** The same for the terminal, methods by id: a heading line and one indented line per metric. */
export function bootstrapText(
  b: BootstrapResult<string>,
  labels: Readonly<Record<string, string>>,
  unit: string,
): string {
  const lines = separabilityLines(b, labels, (id) => id);
  return `paired bootstrap over the ${unit}, ${Math.round(b.level * 100)} %:\n  ${lines.join("\n  ")}\n`;
}

/** Where the samples of a run were computed: one entry per process that journaled some of them. */
export interface RanOn {
  command: string;
  machine: string;
  backend: string;
}

/** This process, for the journal header (so that a resumed or merged report names where its samples ran). */
export function ranOnHere(args: readonly string[]): RanOn {
  return { command: commandLine(args), machine: machine(), backend: backendLine() };
}

/** How a run went, for the report's run section and run file (never part of the results). */
export interface RunInfo {
  /** The command line that made the report (for a merge: the merge command). */
  args: string[];
  /** Wall time summed over the journaled samples, seconds. */
  seconds: number;
  /** The processes that computed the samples (a fresh run: this one; resumed or merged: each, once). */
  ranOn: RanOn[];
}

const distinct = (xs: readonly string[]) => [...new Set(xs)];
const listed = (xs: readonly string[]) =>
  xs.length ? distinct(xs).join("; ") : "not recorded in the journal";

/**
 * The run section closing a Markdown report: command, date, machine, backend, run time and the
 * explanation time per method — what differs between two runs of the same evaluation. Machine and
 * backend are those the samples were computed on; a merge also lists the commands of its shards.
 */
export function runSection(run: RunInfo, times?: string): string {
  const command = commandLine(run.args);
  const others = distinct(run.ranOn.map((r) => r.command)).filter((c) => c !== command);
  return [
    "## Run",
    "",
    `- command: \`${command}\``,
    ...others.map((c) => `  - samples computed by: \`${c}\``),
    `- date: ${new Date().toISOString()}`,
    `- machine: ${listed(run.ranOn.map((r) => r.machine))}`,
    `- backend: ${listed(run.ranOn.map((r) => r.backend))}`,
    `- run time: ${formatSeconds(run.seconds)}`,
    ...(times ? [`- explanation time: ${times}`] : []),
    "",
  ].join("\n");
}

/** Write report files into DIR (atomically, one by one) and tell stderr. */
export function writeReport(dir: string, files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) writeFileAtomic(join(dir, name), content);
  process.stderr.write(
    `wrote ${Object.keys(files)
      .map((f) => join(dir, f))
      .join(", ")}\n`,
  );
}

/** Collects truncation warnings into one count instead of a line per text. */
export function truncationCounter(): { warn: (message: string) => void; report: () => void } {
  let count = 0;
  return {
    warn: (m) => {
      if (m.startsWith("text truncated")) count++;
      else process.stderr.write(`warning: ${m}\n`);
    },
    report: () => {
      if (count) process.stderr.write(`warning: ${count} text(s) truncated to the model's maximum length\n`);
    },
  };
}
