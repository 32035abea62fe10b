/** Tiny random models of every type, and an independent Float64 re-computation of their forward pass. */
import { parseConfig, SequenceClassifier, type ModelType } from "../../src/models/index.js";
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

export function tinyConfig(type: ModelType, extra: Record<string, unknown> = {}): string {
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
  type: ModelType,
  seed = 1,
  extra: Record<string, unknown> = {},
): SequenceClassifier {
  const m = SequenceClassifier.initialise(
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
const get = (m: SequenceClassifier, name: string) => Array.from(m.params.get(name)!.data);
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
  m: SequenceClassifier,
  ids: number[],
  typeIds: number[] = ids.map(() => 0),
): number[] {
  const cfg = m.config;
  const L = m.layout;
  const H = cfg.hiddenSize;
  const T = ids.length;
  const word = get(m, L.word);
  const pos = get(m, L.position);
  const tt = L.tokenType ? get(m, L.tokenType) : null;
  const posId = (t: number) => (L.positionsFrom === "roberta" ? cfg.padTokenId + 1 + t : t);
  let x: Mat = ids.map((id, t) =>
    Array.from(
      { length: H },
      (_, j) => word[id * H + j]! + pos[posId(t) * H + j]! + (tt ? tt[typeIds[t]! * H + j]! : 0),
    ),
  );
  x = layerNorm(x, cfg.layerNormEps, get(m, L.embeddingNorm.weight), get(m, L.embeddingNorm.bias));
  const paper = L.attentionKind === "paper";
  const nh = cfg.numHeads;
  const dh = H / nh;
  for (const layer of L.layers) {
    const lin = (inp: Mat, n: { weight: string; bias: string }, out: number) =>
      linear(inp, get(m, n.weight), get(m, n.bias), out);
    const q = lin(x, layer.query, H);
    const k = lin(x, layer.key, H);
    const v = lin(x, layer.value, H);
    const ctx: Mat = Array.from({ length: T }, () => new Array<number>(H).fill(0));
    for (let h = 0; h < nh; h++) {
      for (let i = 0; i < T; i++) {
        const s = Array.from({ length: T }, (_, j) => {
          let d = 0;
          for (let e = 0; e < dh; e++) d += q[i]![h * dh + e]! * k[j]![h * dh + e]!;
          return paper ? d : d / Math.sqrt(dh);
        });
        const mx = Math.max(...s);
        const ex = s.map((vv) => Math.exp(vv - mx));
        const z = ex.reduce((a, b) => a + b, 0);
        for (let j = 0; j < T; j++)
          for (let e = 0; e < dh; e++) ctx[i]![h * dh + e]! += (ex[j]! / z) * v[j]![h * dh + e]!;
      }
    }
    const o = lin(ctx, layer.output, H);
    const res = o.map((row, i) => row.map((vv, j) => vv + x[i]![j]!));
    x = layer.attentionNorm
      ? layerNorm(res, cfg.layerNormEps, get(m, layer.attentionNorm.weight), get(m, layer.attentionNorm.bias))
      : layerNorm(res, cfg.layerNormEps, undefined, undefined, true);
    if (layer.ffn) {
      const h1 = lin(x, layer.ffn.intermediate, cfg.intermediateSize).map((row) => row.map(gelu));
      const h2 = lin(h1, layer.ffn.output, H);
      x = layerNorm(
        h2.map((row, i) => row.map((vv, j) => vv + x[i]![j]!)),
        cfg.layerNormEps,
        get(m, layer.ffn.norm!.weight),
        get(m, layer.ffn.norm!.bias),
      );
    }
  }
  const act = L.head.activation === "tanh" ? Math.tanh : (v: number) => Math.max(v, 0);
  const pooled = linear([x[0]!], get(m, L.head.dense.weight), get(m, L.head.dense.bias), H)[0]!.map(act);
  return linear(
    [pooled],
    get(m, L.head.classifier.weight),
    get(m, L.head.classifier.bias),
    cfg.labels.length,
  )[0]!;
}
