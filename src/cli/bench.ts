/**
 * `xait bench`: GEMM throughput, BERT-base forward / LRP explanation time (one sequence and one batch
 * of sentences) and GPT-2 small forward / next-token LRP explanation time, with the peak memory of
 * every row, for each backend asked for. `benchBackend` produces all rows of one backend, so adding a
 * backend is adding its name to `BENCH_BACKENDS`. With several backends each runs in a process of its
 * own, so that no backend's rows carry the memory another left resident (onnxruntime's sessions,
 * wasm memory, which never shrinks).
 */
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { cpus } from "node:os";
import { makeBatch, parseConfig, setAccelerator, TransformerModel } from "../models/index.js";
import { loadOrt, type NativeAccelerator } from "../onnx/native-node.js";
import { setupNative } from "../onnx/register-node.js";
import { embeddingGradient, LRP_RULES } from "../explain/index.js";
import { seedOf } from "../explain/rule-methods.js";
import { noGrad } from "../tensor/index.js";
import { backendInfo, benchGemm, initBackend, type BackendName } from "../tensor/backends.js";
import { registerCommand } from "./commands.js";
import { flagHelp, numberValue, parseFlags, THREADS_FLAG, type FlagTable } from "./flags.js";
import { usageError, XaitError } from "../errors.js";

/** What `xait bench` measures: a kernel backend, or `native` (compiled graphs in onnxruntime-node). */
export type BenchBackend = BackendName | "native";

/** The backends `--backend` accepts, in the order they are measured. */
export const BENCH_BACKENDS: readonly BenchBackend[] = ["native", "wasm", "js"];

/** Tokens per sentence of the batch row. */
export const BATCH_SEQ = 32;

export const BENCH_FLAGS = {
  json: { kind: "boolean", help: "print exactly one JSON object" },
  backend: {
    kind: "string",
    value: "LIST",
    help: `backends to measure, comma-separated: ${BENCH_BACKENDS.join(", ")} (default:\nXAIT_BACKEND, else native and wasm when onnxruntime-node works, else wasm)`,
  },
  threads: THREADS_FLAG,
  reps: {
    kind: "number",
    value: "N",
    integer: true,
    min: 1,
    max: 1000,
    default: 5,
    help: "timed repetitions",
  },
  seq: { kind: "string", value: "LIST", default: "128,512", help: "sequence lengths (2 to 512, at most 8)" },
  batch: {
    kind: "number",
    value: "N",
    integer: true,
    min: 1,
    max: 256,
    default: 32,
    help: `sentences of ${BATCH_SEQ} tokens explained as one batch by BERT-base`,
  },
} as const satisfies FlagTable;

const HELP = `Usage: xait bench [--json] [--backend LIST] [--threads N] [--reps N] [--seq N,…] [--batch N]

Measure the engine on this machine, for each backend: GEMM GFLOP/s for 128×768·768×768 and
512×768·768×3072 (x·Wᵀ, the linear layer's layout), and a BERT-base classifier with random weights
(12 layers, hidden 768, 12 heads, FFN 3072): forward time and the time of one lrp explanation
(softmax and LayerNorm std detached, identity rule on GELU, Gradient × Input at the embeddings; no
weight gradients) at sequence lengths 128 and 512; the same for --batch sentences of ${BATCH_SEQ} tokens
explained as one batch (one target logit per sentence, one backward pass), with explanations per
second; the same for a GPT-2 small language model with random weights (12 layers, hidden 768, 12
heads, vocabulary 50,257), explaining its next token. The native backend (onnxruntime-node) runs
each row as one compiled graph per model (forward, lrp), one call per batch; it has no GEMM row.
Every row gives the ratio of the lrp time to
the forward time and the peak resident memory while the row ran (on Linux; elsewhere the process's
peak so far); with several backends each is measured in a process of its own, so that no row
carries what another backend left resident. Times are medians of --reps runs after a warm-up.

Options:
${flagHelp(BENCH_FLAGS, 16)}

Examples:
  xait bench
  xait bench --json --seq 128 --batch 32
  xait bench --backend wasm,js --seq 32 --batch 4 --reps 1`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(fn: () => void, reps: number): number {
  fn();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

/** A BERT-base-sized classifier with random weights. */
export function bertBase(): TransformerModel {
  const config = parseConfig(
    JSON.stringify({
      model_type: "bert",
      vocab_size: 30522,
      hidden_size: 768,
      num_hidden_layers: 12,
      num_attention_heads: 12,
      intermediate_size: 3072,
      hidden_act: "gelu",
      max_position_embeddings: 512,
      type_vocab_size: 2,
      layer_norm_eps: 1e-12,
    }),
  );
  return TransformerModel.initialise(config, 0);
}

/** A GPT-2-small-sized language model with random weights. */
export function gpt2Small(): TransformerModel {
  const config = parseConfig(
    JSON.stringify({
      model_type: "gpt2",
      architectures: ["GPT2LMHeadModel"],
      vocab_size: 50257,
      n_embd: 768,
      n_layer: 12,
      n_head: 12,
      n_positions: 1024,
      activation_function: "gelu_new",
      layer_norm_epsilon: 1e-5,
    }),
  );
  return TransformerModel.initialise(config, 0);
}

/**
 * Peak resident memory. On Linux the kernel's high-water mark (VmHWM) can be reset, so each row
 * reports its own peak ("row"); elsewhere it is the process's peak so far ("process").
 */
export const peakMemory = {
  reset(): "row" | "process" {
    try {
      writeFileSync("/proc/self/clear_refs", "5");
      return readFileSync("/proc/self/status", "utf8").includes("VmHWM:") ? "row" : "process";
    } catch {
      return "process";
    }
  },
  mb(): number {
    try {
      const m = /VmHWM:\s*(\d+)\s*kB/.exec(readFileSync("/proc/self/status", "utf8"));
      if (m) return Number(m[1]) / 1024;
    } catch {
      // not Linux: the process's peak
    }
    return process.resourceUsage().maxRSS / 1024;
  },
};

/**
 * Collect garbage now and let finalizers run, so that the next model's weights reuse the memory of
 * the last one's (resident blocks return to their heap only when their arrays are collected) and a
 * row's peak is its own model's.
 */
async function collectGarbage(): Promise<void> {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as (() => void) | undefined;
  gc?.();
  await new Promise((resolve) => setTimeout(resolve, 0));
}

/** One measured row: a model explaining `batch` sequences of `seq` tokens with lrp, as one batch. */
export interface BenchRow {
  model: string;
  batch: number;
  seq: number;
  forward_ms: number;
  lrp_ms: number;
  lrp_over_forward: number;
  explanations_per_s: number;
  peak_rss_mb: number;
  /** "row": the peak while this row ran; "process": the process's peak so far. */
  peak_rss_scope: "row" | "process";
}

/** All rows of one backend. */
export interface BackendBench {
  backend: string;
  threads: number;
  relaxed_simd: boolean;
  /** Why the requested backend was replaced, if it was. */
  fallback?: string;
  gemm: { m: number; k: number; n: number; gflops: number }[];
  rows: BenchRow[];
}

/** What one row measures; `first`/`last` are the special tokens put at the ends of each sequence. */
export interface RowSpec {
  name: string;
  model: () => TransformerModel;
  batch: number;
  seq: number;
  target: number;
  first?: number;
  last?: number;
}

export interface BenchPlan {
  seqs: number[];
  /** Sentences of the BERT-base batch row (0: no batch row). */
  batch: number;
  batchSeq: number;
  reps: number;
  threads?: number;
  /** Also time GEMM (default true). */
  gemm?: boolean;
  /** The models (default BERT-base and GPT-2 small with random weights). */
  bert?: () => TransformerModel;
  gpt2?: () => TransformerModel;
}

/** The rows of a plan, in the order they run: BERT-base per length, the batch row, GPT-2 per length. */
export function rowSpecs(plan: BenchPlan): RowSpec[] {
  const bert = plan.bert ?? bertBase;
  const gpt2 = plan.gpt2 ?? gpt2Small;
  return [
    ...plan.seqs.map((seq) => ({
      name: "bert-base",
      model: bert,
      batch: 1,
      seq,
      target: 1,
      first: 101,
      last: 102,
    })),
    ...(plan.batch > 0
      ? [
          {
            name: "bert-base",
            model: bert,
            batch: plan.batch,
            seq: plan.batchSeq,
            target: 1,
            first: 101,
            last: 102,
          },
        ]
      : []),
    ...plan.seqs.map((seq) => ({ name: "gpt2-small", model: gpt2, batch: 1, seq, target: 198 })),
  ];
}

/** Forward and lrp times of one row, and its peak memory; `native`: the compiled graphs. */
function measureRow(
  model: TransformerModel,
  spec: RowSpec,
  reps: number,
  native: NativeAccelerator | null = null,
): BenchRow {
  const { batch: rows, seq, first, last } = spec;
  const vocab = model.config.vocabSize;
  const sequences = Array.from({ length: rows }, (_, r) => ({
    ids: Array.from(
      { length: seq },
      (_, i) =>
        (i === 0 && first !== undefined
          ? first
          : i === seq - 1 && last !== undefined
            ? last
            : 1000 + ((i * 7919 + r * 104729) % 20000)) % vocab,
    ),
  }));
  const batch = makeBatch(sequences, 0);
  const scope = peakMemory.reset();
  const options = { gamma: 0, steps: 50, seed: 0 };
  const input =
    rows === 1
      ? { model, batch, target: spec.target % model.numLabels, options }
      : { model, batch, targets: Array<number>(rows).fill(spec.target % model.numLabels), options };
  let forward_ms: number;
  let lrp_ms: number;
  if (native) {
    const need = <T>(v: T | null): T => {
      if (v === null) throw new Error(`${spec.name} does not compile to an ONNX graph`);
      return v;
    };
    const seed = seedOf(input);
    forward_ms = time(() => void need(native.forward(model, batch)), reps);
    lrp_ms = time(
      () => void need(native.explain(model, batch, LRP_RULES, "input-times-gradient", seed)),
      reps,
    );
  } else {
    forward_ms = time(() => void noGrad(() => model.forward(batch)), reps);
    lrp_ms = time(() => void embeddingGradient(input, LRP_RULES, false), reps);
  }
  return {
    model: spec.name,
    batch: rows,
    seq,
    forward_ms,
    lrp_ms,
    lrp_over_forward: lrp_ms / forward_ms,
    explanations_per_s: (1000 * rows) / lrp_ms,
    peak_rss_mb: peakMemory.mb(),
    peak_rss_scope: scope,
  };
}

/** Progress of `benchBackend`: the backend and its GEMM rates, then each row as it is done. */
export interface BenchEvents {
  start?: (b: Omit<BackendBench, "rows">) => void;
  row?: (b: Omit<BackendBench, "rows">, row: BenchRow) => void;
}

/** Install `backend` and measure every row of the plan on it. */
export async function benchBackend(
  backend: BenchBackend,
  plan: BenchPlan,
  events: BenchEvents = {},
): Promise<BackendBench> {
  await initBackend({ backend: backend === "native" ? "wasm" : backend, threads: plan.threads });
  const native =
    backend === "native"
      ? setupNative({
          backend: "native",
          minForwardTokens: 0,
          ...(plan.threads !== undefined ? { threads: plan.threads } : {}),
        })
      : null;
  setAccelerator(null); // rows call the accelerator themselves
  const info = backendInfo();
  const gemm =
    plan.gemm === false || native
      ? []
      : [
          [128, 768, 768],
          [512, 768, 3072],
        ].map(([m, k, n]) => {
          const r = benchGemm(m!, k!, n!, { transB: true, reps: Math.max(plan.reps, 5) });
          return { m: m!, k: k!, n: n!, gflops: r.gflops };
        });
  const head = {
    backend: native ? "native" : info.name,
    threads: native ? native.threads : info.threads,
    relaxed_simd: info.relaxedSimd,
    ...(info.fallback !== undefined ? { fallback: info.fallback } : {}),
    gemm,
  };
  events.start?.(head);
  const rows: BenchRow[] = [];
  const models = new Map<() => TransformerModel, TransformerModel>();
  for (const spec of rowSpecs(plan)) {
    let model = models.get(spec.model);
    if (!model) {
      if (models.size) {
        models.clear(); // one model alive at a time
        await collectGarbage();
      }
      model = spec.model().makeResident();
      models.set(spec.model, model);
    }
    const row = measureRow(model, spec, plan.reps, native);
    rows.push(row);
    events.row?.(head, row);
  }
  return { ...head, rows };
}

/** Set in the process `benchInChild` starts: it prints its events as JSON lines on stdout. */
const CHILD_ENV = "XAIT_BENCH_CHILD";

/** The CLI's entry point (the child runs `xait bench` for one backend). */
const CLI = fileURLToPath(new URL("../../../bin/xait.js", import.meta.url));

/**
 * `benchBackend` in a fresh Node process: the plan of the CLI's flags (the default models), rows
 * streamed back as they are measured.
 */
export function benchInChild(
  backend: BenchBackend,
  plan: BenchPlan,
  events: BenchEvents = {},
): Promise<BackendBench> {
  const args = [CLI, "bench", "--backend", backend, "--reps", String(plan.reps)];
  args.push("--seq", plan.seqs.join(","), "--batch", String(plan.batch));
  if (plan.threads !== undefined) args.push("--threads", String(plan.threads));
  const proc = spawn(process.execPath, args, {
    env: { ...process.env, [CHILD_ENV]: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let head: Omit<BackendBench, "rows"> | undefined;
  const rows: BenchRow[] = [];
  let pending = "";
  let stderr = "";
  proc.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      let event: { start?: Omit<BackendBench, "rows">; row?: BenchRow };
      try {
        event = JSON.parse(line) as typeof event;
      } catch {
        stderr += line + "\n"; // not an event: kept for the error message
        continue;
      }
      if (event.start) events.start?.((head = event.start));
      if (event.row && head) {
        rows.push(event.row);
        events.row?.(head, event.row);
      }
    }
  });
  proc.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    proc.on("error", reject);
    proc.on("close", (code) => {
      if (code === 0 && head) return resolve({ ...head, rows });
      const why = stderr.trim().split("\n").pop() || `exit code ${code}`;
      reject(new XaitError(`bench of the ${backend} backend failed: ${why}`));
    });
  });
}

/** Whether onnxruntime-node loads here. */
function nativeAvailable(): boolean {
  try {
    loadOrt();
    return true;
  } catch {
    return false;
  }
}

/** The backends of `--backend` (validated), else XAIT_BACKEND, else native and wasm (native when it loads). */
export function parseBackends(list: string | undefined, hasNative = nativeAvailable): BenchBackend[] {
  if (list === undefined) {
    const env = process.env["XAIT_BACKEND"];
    if (env === "js" || env === "wasm" || env === "native") return [env];
    return hasNative() ? ["native", "wasm"] : ["wasm"];
  }
  const names = list.split(",").map((s) => s.trim());
  const out: BenchBackend[] = [];
  for (const n of names) {
    const b = BENCH_BACKENDS.find((x) => x === n);
    if (!b) throw usageError(`--backend takes ${BENCH_BACKENDS.join(", ")}, got '${n.slice(0, 40)}'`);
    if (out.includes(b)) throw usageError(`--backend names ${b} twice`);
    out.push(b);
  }
  return out;
}

const COLUMNS = [
  "backend",
  "model",
  "batch×seq",
  "forward ms",
  "lrp ms",
  "lrp/forward",
  "expl/s",
  "peak RSS MB",
];

function tableLine(cells: string[]): string {
  return cells
    .map((c, i) => (i === 0 ? c.padEnd(8) : i === 1 ? c.padEnd(11) : c.padStart(COLUMNS[i]!.length + 1)))
    .join(" ");
}

function rowLine(backend: string, r: BenchRow): string {
  return tableLine([
    backend,
    r.model,
    `${r.batch}×${r.seq}`,
    r.forward_ms.toFixed(0),
    r.lrp_ms.toFixed(0),
    r.lrp_over_forward.toFixed(2),
    r.explanations_per_s.toFixed(r.explanations_per_s < 10 ? 2 : 1),
    r.peak_rss_mb.toFixed(0) + (r.peak_rss_scope === "process" ? "*" : ""),
  ]);
}

async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(BENCH_FLAGS, argv);
  const { threads, reps } = values;
  const seqList = values.seq.split(",");
  if (seqList.length > 8) throw usageError(`--seq takes at most 8 lengths, got ${seqList.length}`);
  const seqs = seqList.map((s) => numberValue("seq", s, { integer: true, min: 2, max: 512 }));
  const backends = parseBackends(values.backend);
  const plan: BenchPlan = { seqs, batch: values.batch, batchSeq: BATCH_SEQ, reps, threads };
  if (process.env[CHILD_ENV] === "1" && backends.length === 1) {
    // started by benchInChild: the events only, one JSON line each
    const emit = (event: object) => void process.stdout.write(JSON.stringify(event) + "\n");
    await benchBackend(backends[0]!, plan, {
      start: (start) => emit({ start }),
      row: (_, row) => emit({ row }),
    });
    return 0;
  }
  const log = (m: string) => {
    if (!values.json) process.stdout.write(m + "\n");
  };
  log(`${cpus()[0]?.model ?? "cpu"} × ${cpus().length}`);
  const results: BackendBench[] = [];
  const lines: string[] = [];
  let processScope = false;
  for (const name of backends) {
    const measure = backends.length > 1 ? benchInChild : benchBackend;
    const result = await measure(name, plan, {
      start: (b) => {
        log(
          `backend ${b.backend}, ${b.threads} thread(s)${b.relaxed_simd ? ", relaxed SIMD" : ""}${b.fallback ? ` (wasm unavailable: ${b.fallback})` : ""}` +
            b.gemm.map((g) => `; gemm ${g.m}×${g.k}·${g.k}×${g.n}: ${g.gflops.toFixed(1)} GFLOP/s`).join(""),
        );
        if (lines.length === 0) log(tableLine(COLUMNS));
      },
      row: (b, row) => {
        const line = rowLine(b.backend, row);
        lines.push(line);
        processScope ||= row.peak_rss_scope === "process";
        log(line);
      },
    });
    results.push(result);
  }
  if (backends.length > 1) {
    log("");
    log(tableLine(COLUMNS));
    for (const l of lines) log(l);
  }
  if (processScope) log("* the process's peak so far (no per-row peak on this system)");
  if (values.json)
    process.stdout.write(
      JSON.stringify({ cpu: cpus()[0]?.model ?? "cpu", cores: cpus().length, backends: results }) + "\n",
    );
  return 0;
}

registerCommand({
  name: "bench",
  summary: "measure GEMM throughput, BERT-base and GPT-2 small explanation time and memory",
  help: HELP,
  run,
});
