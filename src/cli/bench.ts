/**
 * `xait bench`: GEMM throughput, BERT-base forward / LRP explanation time and GPT-2 small forward /
 * next-token LRP explanation time, and peak memory.
 */
import { cpus } from "node:os";
import { makeBatch, parseConfig, TransformerModel } from "../models/index.js";
import { embeddingGradient, LRP_RULES } from "../explain/index.js";
import { noGrad } from "../tensor/index.js";
import { backendInfo, benchGemm, initBackend } from "../tensor/backends.js";
import { registerCommand } from "./commands.js";
import { flagHelp, numberValue, parseFlags, THREADS_FLAG, type FlagTable } from "./flags.js";
import { usageError } from "../errors.js";

export const BENCH_FLAGS = {
  json: { kind: "boolean", help: "print exactly one JSON object" },
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
} as const satisfies FlagTable;

const HELP = `Usage: xait bench [--json] [--threads N] [--reps N] [--seq N,…]

Measure the engine on this machine: GEMM GFLOP/s for 128×768·768×768 and 512×768·768×3072 (x·Wᵀ,
the linear layer's layout), and a BERT-base classifier with random weights (12 layers, hidden 768,
12 heads, FFN 3072): forward time and the time of one lrp explanation (softmax and LayerNorm std
detached, identity rule on GELU, Gradient × Input at the embeddings; no weight gradients) at
sequence lengths 128 and 512; the same for a GPT-2 small language model with random weights (12
layers, hidden 768, 12 heads, vocabulary 50,257), explaining its next token; the ratio of the lrp
time to the forward time; and the peak resident memory. Times are medians of --reps runs after a
warm-up.

Options:
${flagHelp(BENCH_FLAGS, 16)}

Examples:
  xait bench
  XAIT_BACKEND=js xait bench --seq 128 --reps 1`;

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

/** Forward and lrp times of one sequence of each length, and the peak memory so far. */
function measure(
  model: TransformerModel,
  name: string,
  seqs: number[],
  reps: number,
  log: (m: string) => void,
  target: number,
  first?: number,
  last?: number,
) {
  return seqs.map((seq) => {
    const ids = Array.from({ length: seq }, (_, i) =>
      i === 0 && first !== undefined
        ? first
        : i === seq - 1 && last !== undefined
          ? last
          : 1000 + ((i * 7919) % 20000),
    );
    const batch = makeBatch([{ ids }], 0);
    const forward_ms = time(() => void noGrad(() => model.forward(batch)), reps);
    const input = { model, batch, target, options: { gamma: 0, steps: 50, seed: 0 } };
    const lrp_ms = time(() => void embeddingGradient(input, LRP_RULES, false), reps);
    const peak_rss_mb = process.resourceUsage().maxRSS / 1024;
    const ratio = lrp_ms / forward_ms;
    log(
      `${name} seq ${seq}: forward ${forward_ms.toFixed(0)} ms, lrp ${lrp_ms.toFixed(0)} ms (${ratio.toFixed(2)}× forward), peak RSS ${peak_rss_mb.toFixed(0)} MB`,
    );
    return { seq, forward_ms, lrp_ms, lrp_over_forward: ratio, peak_rss_mb };
  });
}

async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(BENCH_FLAGS, argv);
  const { threads, reps } = values;
  const seqList = values.seq.split(",");
  if (seqList.length > 8) throw usageError(`--seq takes at most 8 lengths, got ${seqList.length}`);
  const seqs = seqList.map((s) => numberValue("seq", s, { integer: true, min: 2, max: 512 }));
  await initBackend({ threads });
  const info = backendInfo();
  const log = (m: string) => {
    if (!values.json) process.stdout.write(m + "\n");
  };
  log(
    `backend ${info.name}, ${info.threads} thread(s)${info.relaxedSimd ? ", relaxed SIMD" : ""}; ${cpus()[0]?.model ?? "cpu"} × ${cpus().length}`,
  );
  const gemm = [
    [128, 768, 768],
    [512, 768, 3072],
  ].map(([m, k, n]) => {
    const r = benchGemm(m!, k!, n!, { transB: true, reps: Math.max(reps, 5) });
    log(`gemm ${m}×${k}·${k}×${n}: ${r.gflops.toFixed(1)} GFLOP/s`);
    return { m: m!, k: k!, n: n!, gflops: r.gflops };
  });
  const bert_base = measure(bertBase(), "bert-base", seqs, reps, log, 1, 101, 102);
  const gpt2_small = measure(gpt2Small(), "gpt2-small", seqs, reps, log, 198);
  if (values.json)
    process.stdout.write(
      JSON.stringify({ backend: info.name, threads: info.threads, gemm, bert_base, gpt2_small }) + "\n",
    );
  return 0;
}

registerCommand({
  name: "bench",
  summary: "measure GEMM throughput, BERT-base and GPT-2 small explanation time and memory",
  help: HELP,
  run,
});
