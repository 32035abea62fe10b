/**
 * Tiny decoder language models (GPT-2, Llama family) with random weights and a byte-level tokenizer,
 * and an independent Float64 re-computation of their forward pass written from the published
 * definitions (GPT-2: Conv1D [in, out] weights, fused q|k|v; Llama: RMSNorm, rotate_half rotary
 * embeddings, grouped k/v heads, SiLU-gated MLP).
 */
import { TransformerModel, configFromObject } from "../../src/models/index.js";
import { tokenizerFromJSON, type Tokenizer } from "../../src/tokenize/index.js";

/** GPT-2's bytes_to_unicode: printable characters for the 256 byte values. */
export function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const out = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCodePoint(printable.includes(b) ? b : 256 + extra++);
  return out;
}

/** A byte-level BPE tokenizer.json: the 256 byte symbols, a few merges, and <|endoftext|> (id 256 + merges). */
export function byteLevelTokenizerJson(
  merges: [string, string][] = [
    ["Ġ", "g"],
    ["o", "o"],
    ["Ġg", "oo"],
  ],
): string {
  const symbols = bytesToUnicode();
  const vocab: Record<string, number> = {};
  symbols.forEach((s, i) => (vocab[s] = i));
  for (const [a, b] of merges) vocab[a + b] = Object.keys(vocab).length;
  const eos = Object.keys(vocab).length;
  vocab["<|endoftext|>"] = eos;
  return JSON.stringify({
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [
      {
        id: eos,
        content: "<|endoftext|>",
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: true,
        special: true,
      },
    ],
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  });
}

export function tinyTokenizer(): Tokenizer {
  return tokenizerFromJSON(byteLevelTokenizerJson());
}

export const TINY_VOCAB_SIZE = 260; // 256 bytes + 3 merges + <|endoftext|>

export type DecoderType = "gpt2" | "llama" | "mistral" | "qwen2";

export function tinyDecoderConfig(
  type: DecoderType,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  if (type === "gpt2")
    return {
      model_type: "gpt2",
      architectures: ["GPT2LMHeadModel"],
      vocab_size: TINY_VOCAB_SIZE,
      n_embd: 8,
      n_layer: 2,
      n_head: 2,
      n_positions: 32,
      activation_function: "gelu_new",
      layer_norm_epsilon: 1e-5,
      eos_token_id: TINY_VOCAB_SIZE - 1,
      ...extra,
    };
  return {
    model_type: type,
    architectures: [`${type === "qwen2" ? "Qwen2" : type === "mistral" ? "Mistral" : "Llama"}ForCausalLM`],
    vocab_size: TINY_VOCAB_SIZE,
    hidden_size: 8,
    intermediate_size: 12,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    max_position_embeddings: 32,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    hidden_act: "silu",
    tie_word_embeddings: false,
    eos_token_id: TINY_VOCAB_SIZE - 1,
    ...extra,
  };
}

/** A tiny decoder with random weights; norms and biases perturbed away from 1 and 0. */
export function tinyDecoder(
  type: DecoderType,
  seed = 1,
  extra: Record<string, unknown> = {},
): TransformerModel {
  const m = TransformerModel.initialise(
    configFromObject(tinyDecoderConfig(type, extra)),
    seed,
    tinyTokenizer(),
    0.5,
  );
  let s = seed * 7919;
  for (const [name, t] of m.params)
    if (/ln_|layernorm|norm\.weight|bias/.test(name))
      for (let i = 0; i < t.size; i++) t.data[i] = (name.endsWith("weight") ? 1 : 0) + 0.3 * Math.sin(s++);
  return m;
}

type Mat = number[][];
const get = (m: TransformerModel, name: string) => Array.from(m.params.get(name)!.data);

/** x · W with W stored [in, out] (Conv1D) or [out, in] (PyTorch linear), plus bias. */
function matvec(
  x: Mat,
  W: number[],
  b: number[] | null,
  inF: number,
  outF: number,
  layout: "in-out" | "out-in",
): Mat {
  return x.map((row) =>
    Array.from({ length: outF }, (_, o) => {
      let s = b ? b[o]! : 0;
      for (let i = 0; i < inF; i++) s += row[i]! * (layout === "in-out" ? W[i * outF + o]! : W[o * inF + i]!);
      return s;
    }),
  );
}

function layerNorm(x: Mat, w: number[], b: number[], eps: number): Mat {
  return x.map((row) => {
    const n = row.length;
    const mu = row.reduce((a, v) => a + v, 0) / n;
    const v = row.reduce((a, x) => a + (x - mu) ** 2, 0) / n;
    return row.map((x, j) => ((x - mu) / Math.sqrt(v + eps)) * w[j]! + b[j]!);
  });
}

function rmsNorm(x: Mat, w: number[], eps: number): Mat {
  return x.map((row) => {
    const ms = row.reduce((a, v) => a + v * v, 0) / row.length;
    return row.map((v, j) => (v / Math.sqrt(ms + eps)) * w[j]!);
  });
}

const geluTanh = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
const silu = (v: number) => v / (1 + Math.exp(-v));

/** Causal attention of one sequence: q [T][nh·dh], k, v [T][nkv·dh]; query head h uses k/v head ⌊h / (nh/nkv)⌋. */
function causalAttention(q: Mat, k: Mat, v: Mat, nh: number, nkv: number, dh: number): Mat {
  const T = q.length;
  const group = nh / nkv;
  return Array.from({ length: T }, (_, i) => {
    const out = new Array<number>(nh * dh).fill(0);
    for (let h = 0; h < nh; h++) {
      const kh = Math.floor(h / group);
      const s: number[] = [];
      for (let j = 0; j <= i; j++) {
        let d = 0;
        for (let e = 0; e < dh; e++) d += q[i]![h * dh + e]! * k[j]![kh * dh + e]!;
        s.push(d / Math.sqrt(dh));
      }
      const mx = Math.max(...s);
      const ex = s.map((x) => Math.exp(x - mx));
      const z = ex.reduce((a, b) => a + b, 0);
      for (let j = 0; j <= i; j++)
        for (let e = 0; e < dh; e++) out[h * dh + e]! += (ex[j]! / z) * v[j]![kh * dh + e]!;
    }
    return out;
  });
}

/** Rotary embedding of one head's vector at position p (rotate_half: pairs (e, e + dh/2)). */
function rope(x: number[], p: number, theta: number): number[] {
  const dh = x.length;
  const half = dh / 2;
  const out = x.slice();
  for (let e = 0; e < half; e++) {
    const angle = p / Math.pow(theta, (2 * e) / dh);
    const c = Math.cos(angle);
    const s = Math.sin(angle);
    out[e] = x[e]! * c - x[e + half]! * s;
    out[e + half] = x[e + half]! * c + x[e]! * s;
  }
  return out;
}

function ropeRows(x: Mat, heads: number, dh: number, theta: number): Mat {
  return x.map((row, p) => {
    const out: number[] = [];
    for (let h = 0; h < heads; h++) out.push(...rope(row.slice(h * dh, (h + 1) * dh), p, theta));
    return out;
  });
}

const add = (a: Mat, b: Mat): Mat => a.map((r, i) => r.map((v, j) => v + b[i]![j]!));

/** Logits at the last position of one unpadded sequence, recomputed in Float64 with plain loops. */
export function referenceDecoderLogits(m: TransformerModel, ids: number[]): number[] {
  const c = m.config;
  const H = c.hiddenSize;
  const T = ids.length;
  const p = (n: string) => get(m, n);
  if (c.modelType === "gpt2") {
    const wte = p("transformer.wte.weight");
    const wpe = p("transformer.wpe.weight");
    let x: Mat = ids.map((id, t) => Array.from({ length: H }, (_, j) => wte[id * H + j]! + wpe[t * H + j]!));
    for (let l = 0; l < c.numLayers; l++) {
      const pre = `transformer.h.${l}`;
      const a = layerNorm(x, p(`${pre}.ln_1.weight`), p(`${pre}.ln_1.bias`), c.normEps);
      const qkv = matvec(a, p(`${pre}.attn.c_attn.weight`), p(`${pre}.attn.c_attn.bias`), H, 3 * H, "in-out");
      const q = qkv.map((r) => r.slice(0, H));
      const k = qkv.map((r) => r.slice(H, 2 * H));
      const v = qkv.map((r) => r.slice(2 * H));
      const att = causalAttention(q, k, v, c.numHeads, c.numHeads, c.headDim);
      x = add(x, matvec(att, p(`${pre}.attn.c_proj.weight`), p(`${pre}.attn.c_proj.bias`), H, H, "in-out"));
      const b = layerNorm(x, p(`${pre}.ln_2.weight`), p(`${pre}.ln_2.bias`), c.normEps);
      const h = matvec(
        b,
        p(`${pre}.mlp.c_fc.weight`),
        p(`${pre}.mlp.c_fc.bias`),
        H,
        c.intermediateSize,
        "in-out",
      ).map((r) => r.map(geluTanh));
      x = add(
        x,
        matvec(
          h,
          p(`${pre}.mlp.c_proj.weight`),
          p(`${pre}.mlp.c_proj.bias`),
          c.intermediateSize,
          H,
          "in-out",
        ),
      );
    }
    x = layerNorm(x, p("transformer.ln_f.weight"), p("transformer.ln_f.bias"), c.normEps);
    const last = [x[T - 1]!];
    if (c.task === "causal-lm")
      return matvec(
        last,
        p(c.tieWordEmbeddings ? "transformer.wte.weight" : "lm_head.weight"),
        null,
        H,
        c.vocabSize,
        "out-in",
      )[0]!;
    return matvec(last, p("score.weight"), null, H, c.labels.length, "out-in")[0]!;
  }
  const emb = p("model.embed_tokens.weight");
  const dh = c.headDim;
  const nh = c.numHeads;
  const nkv = c.numKvHeads;
  const I = c.intermediateSize;
  let x: Mat = ids.map((id) => Array.from({ length: H }, (_, j) => emb[id * H + j]!));
  const bias = (n: string) => (m.params.has(n) ? p(n) : null);
  for (let l = 0; l < c.numLayers; l++) {
    const pre = `model.layers.${l}`;
    const a = rmsNorm(x, p(`${pre}.input_layernorm.weight`), c.normEps);
    const proj = (n: string, out: number) =>
      matvec(a, p(`${pre}.self_attn.${n}.weight`), bias(`${pre}.self_attn.${n}.bias`), H, out, "out-in");
    const q = ropeRows(proj("q_proj", nh * dh), nh, dh, c.ropeTheta!);
    const k = ropeRows(proj("k_proj", nkv * dh), nkv, dh, c.ropeTheta!);
    const v = proj("v_proj", nkv * dh);
    const att = causalAttention(q, k, v, nh, nkv, dh);
    x = add(
      x,
      matvec(
        att,
        p(`${pre}.self_attn.o_proj.weight`),
        bias(`${pre}.self_attn.o_proj.bias`),
        nh * dh,
        H,
        "out-in",
      ),
    );
    const b = rmsNorm(x, p(`${pre}.post_attention_layernorm.weight`), c.normEps);
    const gate = matvec(b, p(`${pre}.mlp.gate_proj.weight`), null, H, I, "out-in");
    const up = matvec(b, p(`${pre}.mlp.up_proj.weight`), null, H, I, "out-in");
    const h = gate.map((r, i) => r.map((g, j) => silu(g) * up[i]![j]!));
    x = add(x, matvec(h, p(`${pre}.mlp.down_proj.weight`), null, I, H, "out-in"));
  }
  x = rmsNorm(x, p("model.norm.weight"), c.normEps);
  const last = [x[T - 1]!];
  if (c.task === "causal-lm")
    return matvec(
      last,
      p(c.tieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight"),
      null,
      H,
      c.vocabSize,
      "out-in",
    )[0]!;
  return matvec(last, p("score.weight"), null, H, c.labels.length, "out-in")[0]!;
}

/**
 * A SentencePiece-style tokenizer.json as Llama 2 ships it: BPE over `▁`-prefixed pieces with byte
 * fallback (`<0xNN>` tokens), <unk>, and a template that puts <s> first.
 */
export function sentencePieceTokenizerJson(): string {
  const vocab: Record<string, number> = { "<unk>": 0, "<s>": 1, "</s>": 2 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`] = 3 + b;
  const pieces = [
    "▁",
    "h",
    "e",
    "l",
    "o",
    "w",
    "r",
    "d",
    "▁h",
    "el",
    "lo",
    "▁hel",
    "▁hello",
    "▁w",
    "or",
    "▁wor",
    "ld",
    "▁world",
  ];
  for (const p of pieces) vocab[p] = Object.keys(vocab).length;
  const merges = ["▁ h", "e l", "l o", "▁h el", "▁hel lo", "▁ w", "o r", "▁w or", "l d", "▁wor ld"];
  return JSON.stringify({
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [0, 1, 2].map((id: number) => ({
      id,
      content: ["<unk>", "<s>", "</s>"][id],
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: "Sequence",
      normalizers: [
        { type: "Prepend", prepend: "▁" },
        { type: "Replace", pattern: { String: " " }, content: "▁" },
      ],
    },
    pre_tokenizer: null,
    post_processor: {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: "<s>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
      pair: [
        { SpecialToken: { id: "<s>", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "<s>", type_id: 1 } },
        { Sequence: { id: "B", type_id: 1 } },
      ],
      special_tokens: { "<s>": { id: "<s>", ids: [1], tokens: ["<s>"] } },
    },
    decoder: {
      type: "Sequence",
      decoders: [
        { type: "Replace", pattern: { String: "▁" }, content: " " },
        { type: "ByteFallback" },
        { type: "Fuse" },
        { type: "Strip", content: " ", start: 1, stop: 0 },
      ],
    },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: "<unk>",
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab,
      merges,
    },
  });
}
