/** Shared pieces of the `xait evaluate` subcommands: data, progress, run-time lines, tables, report files. */
import { cpus, platform, release } from "node:os";
import { join } from "node:path";
import { usageError } from "../errors.js";
import { getMethod, parseMethods } from "../explain/index.js";
import type { BootstrapResult } from "../evaluate/bootstrap.js";
import { labelIds, type LabelledText } from "../evaluate/labels.js";
import type { MethodTiming } from "../evaluate/timing.js";
import type { TransformerModel } from "../models/index.js";
import { backendInfo, initBackend } from "../tensor/backends.js";
import { readDatasetFile } from "../train/data-node.js";
import { seededSubset, splitDataset } from "../train/data.js";
import { numberFlag, writeFileAtomic } from "./io.js";

/** Options of every subcommand reading a labelled data file. */
export const DATA_OPTIONS = {
  data: { type: "string" },
  limit: { type: "string" },
  sample: { type: "string" },
  "text-column": { type: "string" },
  "label-column": { type: "string" },
  "skip-bad-rows": { type: "boolean", default: false },
  "validation-fraction": { type: "string" },
  seed: { type: "string" },
} as const;

/** Options of every subcommand that explains with a choice of methods and writes results. */
export const METHOD_OPTIONS = {
  methods: { type: "string" },
  method: { type: "string" },
  seed: { type: "string" },
  gamma: { type: "string" },
  steps: { type: "string" },
  out: { type: "string" },
  json: { type: "boolean", default: false },
  threads: { type: "string" },
} as const;

export interface DataFlags {
  data?: string;
  limit?: string;
  sample?: string;
  "text-column"?: string;
  "label-column"?: string;
  "skip-bad-rows"?: boolean;
  "validation-fraction"?: string;
  seed?: string;
}

/** --threads N: installs the kernel backend (wasm with N threads by default; XAIT_BACKEND=js for the reference). */
export async function startBackend(threads: string | undefined): Promise<void> {
  await initBackend({ threads: numberFlag("threads", threads, { integer: true, min: 1 }) });
}

/** The kernel backend in use, e.g. "wasm, 4 threads". */
export function backendLine(): string {
  const b = backendInfo();
  return `${b.name}, ${b.threads} thread${b.threads === 1 ? "" : "s"}${b.fallback ? ` (wasm unavailable: ${b.fallback})` : ""}`;
}

/** --limit N: a positive integer, or undefined for all rows. */
export function limitFlag(value: string | undefined): number | undefined {
  return numberFlag("limit", value, { integer: true, min: 1 });
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
  const limit = limitFlag(flags.limit);
  const sample = numberFlag("sample", flags.sample, { integer: true, min: 1 });
  if (limit !== undefined && sample !== undefined) throw usageError("give --limit N or --sample N, not both");
  const ds = readDatasetFile(flags.data, {
    skipBadRows: flags["skip-bad-rows"],
    textColumn: flags["text-column"],
    labelColumn: flags["label-column"],
  });
  if (ds.skipped) process.stderr.write(`skipped ${ds.skipped} malformed row(s) of ${flags.data}\n`);
  // --validation-fraction F: only the held-out part of the file, split exactly as `xait train` splits it
  const fraction = numberFlag("validation-fraction", flags["validation-fraction"], { min: 0, max: 0.9 });
  const seed = numberFlag("seed", flags.seed, { integer: true, min: 0 }) ?? 42;
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

/** The provenance block of a Markdown report: command, date, machine. */
export function provenance(args: readonly string[], seconds: number): string {
  return [
    `- command: \`${commandLine(args)}\``,
    `- date: ${new Date().toISOString()}`,
    `- machine: ${machine()}`,
    `- backend: ${backendLine()}`,
    `- run time: ${formatSeconds(seconds)}`,
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
