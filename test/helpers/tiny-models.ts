/** Tiny random models of every type, and an independent Float64 re-computation of their forward pass. */
import {
  parseConfig,
  TransformerModel,
  type AttentionSpec,
  type LinearSpec,
  type NormSpec,
} from "../../src/models/index.js";
import { tokenizerFromVocab } from "../../src/tokenize/index.js";
import { erf } from "../../src/tensor/special.js";

export const TINY_VOCAB = [
  "[PAD]",
  "[UNK]",
  "[CLS]",
  "[SEP]",
  "[MASK]",
  "good",
  "bad",
  "movie",
  "not",
  "very",
  "the",
  "a",
  "film",
  "##s",
  "!",
  ".",
];

export type EncoderType = "bert" | "roberta" | "distilbert" | "xai-transformer";
export const ENCODER_TYPES: readonly EncoderType[] = ["bert", "xai-transformer", "roberta", "distilbert"];

export function tinyConfig(type: EncoderType, extra: Record<string, unknown> = {}): string {
  const labels = { id2label: { "0": "NEGATIVE", "1": "POSITIVE" } };
  if (type === "distilbert")
    return JSON.stringify({
      model_type: type,
      vocab_size: 16,
      dim: 8,
      n_layers: 2,
      n_heads: 2,
      hidden_dim: 12,
      max_position_embeddings: 16,
      activation: "gelu",
      ...labels,
      ...extra,
    });
  return JSON.stringify({
    model_type: type,
    vocab_size: 16,
    hidden_size: 8,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    intermediate_size: 12,
    hidden_act: "gelu",
    max_position_embeddings: 20,
    type_vocab_size: type === "roberta" ? 1 : 2,
    layer_norm_eps: type === "xai-transformer" ? 1e-5 : 1e-12,
    pad_token_id: 0,
    ...labels,
    ...extra,
  });
}

export function tinyModel(
  type: EncoderType,
  seed = 1,
  extra: Record<string, unknown> = {},
): TransformerModel {
  const m = TransformerModel.initialise(
    parseConfig(tinyConfig(type, extra)),
    seed,
    tokenizerFromVocab(TINY_VOCAB.join("\n")),
    0.5,
  );
  // non-trivial LayerNorm affine parameters and biases
  let s = seed * 7919;
  for (const [name, t] of m.params)
    if (/LayerNorm|layer_norm|bias/.test(name))
      for (let i = 0; i < t.size; i++) t.data[i] = (name.endsWith("weight") ? 1 : 0) + 0.3 * Math.sin(s++);
  return m;
}

type Mat = number[][];
const get = (m: TransformerModel, name: string) => Array.from(m.params.get(name)!.data);
function linear(x: Mat, W: number[], b: number[], outF: number): Mat {
  const inF = x[0]!.length;
  return x.map((row) =>
    Array.from({ length: outF }, (_, o) => b[o]! + row.reduce((s, v, i) => s + v * W[o * inF + i]!, 0)),
  );
}
function layerNorm(x: Mat, eps: number, w?: number[], b?: number[], paper = false): Mat {
  return x.map((row) => {
    const n = row.length;
    const mu = row.reduce((a, v) => a + v, 0) / n;
    const ss = row.reduce((a, v) => a + (v - mu) ** 2, 0);
    const d = paper ? Math.sqrt(ss / (n - 1)) + eps : Math.sqrt(ss / n + eps);
    return row.map((v, j) => ((v - mu) / d) * (w ? w[j]! : 1) + (b ? b[j]! : 0));
  });
}
const gelu = (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2));

/** Logits of one unpadded sequence, recomputed in Float64 with plain loops. */
export function referenceLogits(
  m: TransformerModel,
  ids: number[],
  typeIds: number[] = ids.map(() => 0),
): number[] {
  const cfg = m.config;
  const A = m.architecture;
  const H = cfg.hiddenSize;
  const T = ids.length;
  const e = A.embeddings;
  const word = get(m, e.word);
  const pos = get(m, e.position!.table);
  const tt = e.tokenType ? get(m, e.tokenType) : null;
  const posId = (t: number) => (e.position!.numbering === "roberta" ? cfg.padTokenId + 1 + t : t);
  let x: Mat = ids.map((id, t) =>
    Array.from(
      { length: H },
      (_, j) => word[id * H + j]! + pos[posId(t) * H + j]! + (tt ? tt[typeIds[t]! * H + j]! : 0),
    ),
  );
  const norm = (inp: Mat, n: NormSpec) =>
    n.kind === "paper"
      ? layerNorm(inp, n.eps, undefined, undefined, true)
      : layerNorm(inp, n.eps, get(m, n.weight!), get(m, n.bias!));
  x = norm(x, e.norm!);
  const lin = (inp: Mat, n: LinearSpec) => linear(inp, get(m, n.weight), get(m, n.bias!), n.out);
  for (const block of A.blocks) {
    const att: AttentionSpec = block.attention;
    const proj = att.projections as { q: LinearSpec; k: LinearSpec; v: LinearSpec };
    const nh = att.heads;
    const dh = att.headDim;
    const q = lin(x, proj.q);
    const k = lin(x, proj.k);
    const v = lin(x, proj.v);
    const ctx: Mat = Array.from({ length: T }, () => new Array<number>(H).fill(0));
    for (let h = 0; h < nh; h++) {
      for (let i = 0; i < T; i++) {
        const s = Array.from({ length: T }, (_, j) => {
          let d = 0;
          for (let c = 0; c < dh; c++) d += q[i]![h * dh + c]! * k[j]![h * dh + c]!;
          return att.scaled ? d / Math.sqrt(dh) : d;
        });
        const mx = Math.max(...s);
        const ex = s.map((vv) => Math.exp(vv - mx));
        const z = ex.reduce((a, b) => a + b, 0);
        for (let j = 0; j < T; j++)
          for (let c = 0; c < dh; c++) ctx[i]![h * dh + c]! += (ex[j]! / z) * v[j]![h * dh + c]!;
      }
    }
    const o = lin(ctx, att.output);
    x = norm(
      o.map((row, i) => row.map((vv, j) => vv + x[i]![j]!)),
      block.attentionNorm,
    );
    if (block.mlp) {
      const act = block.mlp.activation === "relu" ? (v: number) => Math.max(v, 0) : gelu;
      const h1 = lin(x, block.mlp.up).map((row) => row.map(act));
      const h2 = lin(h1, block.mlp.down);
      x = norm(
        h2.map((row, i) => row.map((vv, j) => vv + x[i]![j]!)),
        block.mlpNorm!,
      );
    }
  }
  const head = A.head;
  if (head.kind !== "pooler") throw new Error("referenceLogits: encoder heads only");
  const act = head.activation === "tanh" ? Math.tanh : (v: number) => Math.max(v, 0);
  const pooled = lin([x[0]!], head.dense)[0]!.map(act);
  return lin([pooled], head.classifier)[0]!;
}
