/**
 * The per-sample explanation loop every evaluation shares. Samples are taken in blocks of
 * consecutive indices; within a block, the methods with a batched form (the rule-set methods and
 * saliency: one forward and one backward pass for many rows) explain all the block's samples
 * together, grouped as the model can batch them; the other methods explain sample by sample. The
 * loop yields one explained sample at a time, so a caller can record it and stop between samples.
 *
 * A batched explanation differs from a one-row explanation in the last bits of floating point, so
 * a block is always explained whole — also when some of its samples are already done (a resumed
 * run) — and shards are made of whole blocks: every sample then gets bit-identical relevance in a
 * single run, a resumed run and any shard. Browser-safe.
 */
import {
  encodeInput,
  getMethod,
  type ExplainInput,
  type Method,
  type MethodOutput,
} from "../explain/index.js";
import { makeBatch, type Batch, type Site, type TransformerModel } from "../models/index.js";
import { lengthBatches } from "./accuracy.js";
import { paddingToken } from "../tokenize/index.js";

/** Samples explained together by the batched methods, unless an evaluation says otherwise. */
export const DEFAULT_BLOCK = 8;

/** One sample to explain: its index among all samples, its input and the class to explain. */
export interface SampleToExplain {
  index: number;
  input: ExplainInput;
  target: number;
}

export interface ExplainedSample {
  index: number;
  /** The encoded sample (one row, unpadded). */
  batch: Batch;
  tokens: string[];
  /** Per method, in the order given. */
  outputs: MethodOutput[];
  /** Explanation time per method, ms (a batched method's time shared equally by its rows). */
  ms: number[];
}

export interface SampleLoopOptions {
  gamma: number;
  steps: number;
  /** Per-site rule overrides of the rule-set methods. */
  rules?: Partial<Record<Site, string>>;
  /** The `random` baseline's seed for a sample (e.g. a fresh permutation per sample). */
  seedOf: (index: number) => number;
  /** Samples per block (see above). */
  block: number;
  warn?: (message: string) => void;
}

/**
 * Explains the samples whose index satisfies `pending`, in index order, with every method; blocks
 * without a pending sample are skipped. `samples` lists every sample of the evaluation that needs
 * explaining (any order), so that blocks are the same in every run.
 */
export function* explainSamples(
  model: TransformerModel,
  samples: readonly SampleToExplain[],
  methodIds: readonly string[],
  pending: (index: number) => boolean,
  opts: SampleLoopOptions,
): Generator<ExplainedSample> {
  const methods: Method[] = methodIds.map(getMethod);
  const blocks = new Map<number, SampleToExplain[]>();
  for (const s of [...samples].sort((a, b) => a.index - b.index)) {
    const b = Math.floor(s.index / opts.block);
    if (!blocks.has(b)) blocks.set(b, []);
    blocks.get(b)!.push(s);
  }
  const pad = paddingToken(model.tokenizer?.special ?? {}, model.config.padTokenId);
  for (const block of [...blocks.keys()].sort((a, b) => a - b).map((b) => blocks.get(b)!)) {
    if (!block.some((s) => pending(s.index))) continue;
    const encoded = block.map((s) => encodeInput(model, s.input, opts.warn));
    // the batched methods over the whole block, in groups the model can batch
    const batched = new Map<string, { outputs: MethodOutput[]; ms: number[] }>();
    const groups = lengthBatches(
      encoded.map((e) => e.batch.seq),
      block.length,
      !model.capabilities.masksPadding,
    );
    for (const method of methods) {
      if (!method.runBatch) continue;
      const outputs: MethodOutput[] = new Array(block.length);
      const ms: number[] = new Array(block.length);
      for (const group of groups) {
        const batch = makeBatch(
          group.map((r) => ({
            ids: Array.from(encoded[r]!.batch.ids),
            typeIds: Array.from(encoded[r]!.batch.typeIds),
          })),
          pad,
        );
        const t0 = performance.now();
        const outs = method.runBatch({
          model,
          batch,
          targets: group.map((r) => block[r]!.target),
          options: {
            gamma: opts.gamma,
            steps: opts.steps,
            seed: 0,
            ...(opts.rules ? { rules: opts.rules } : {}),
          },
        });
        const share = (performance.now() - t0) / group.length;
        group.forEach((r, k) => {
          outputs[r] = outs[k]!;
          ms[r] = share;
        });
      }
      batched.set(method.id, { outputs, ms });
    }
    for (let r = 0; r < block.length; r++) {
      const s = block[r]!;
      if (!pending(s.index)) continue;
      const { batch, tokens } = encoded[r]!;
      const options = {
        gamma: opts.gamma,
        steps: opts.steps,
        seed: opts.seedOf(s.index),
        ...(opts.rules ? { rules: opts.rules } : {}),
      };
      const outputs: MethodOutput[] = [];
      const ms: number[] = [];
      for (const method of methods) {
        const b = batched.get(method.id);
        if (b) {
          outputs.push(b.outputs[r]!);
          ms.push(b.ms[r]!);
        } else {
          const t0 = performance.now();
          outputs.push(method.run({ model, batch, target: s.target, options }));
          ms.push(performance.now() - t0);
        }
      }
      yield { index: s.index, batch, tokens, outputs, ms };
    }
  }
}
