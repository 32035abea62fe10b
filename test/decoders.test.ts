/** Decoder language models (GPT-2, Llama, Mistral, Qwen2): forward pass, files, rules, targets — on facts. */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  TransformerModel,
  configFromObject,
  makeBatch,
  modelFromFiles,
  modelToFiles,
  readSafetensors,
  writeSafetensors,
  type Trace,
} from "../src/models/index.js";
import {
  ATTNLRP_RULES,
  LRP_RULES,
  METHOD_IDS,
  embeddingGradient,
  explain,
  explainMany,
} from "../src/explain/index.js";
import { noGrad } from "../src/tensor/index.js";
import { XaitError } from "../src/errors.js";
import { replacementToken, tokenizerFromJSON } from "../src/tokenize/index.js";
import { evaluatePerturbation } from "../src/evaluate/run-perturbation.js";
import { generateInputs, pruningInputs } from "../src/evaluate/perturbation.js";
import {
  byteLevelTokenizerJson,
  referenceDecoderLogits,
  sentencePieceTokenizerJson,
  tinyDecoder,
  tinyDecoderConfig,
  tinyTokenizer,
  type DecoderType,
} from "./helpers/tiny-decoders.js";
import { tinyModel } from "./helpers/tiny-models.js";
import { float64 } from "./helpers/float64.js";

const IDS = [72, 101, 108, 108, 111, 258, 33, 10];
const near = (a: number, b: number, rel: number) => Math.abs(a - b) <= rel * Math.max(1, Math.abs(b));

const VARIANTS: [string, DecoderType, Record<string, unknown>][] = [
  ["gpt2 (tied LM head)", "gpt2", {}],
  ["gpt2 (untied LM head)", "gpt2", { tie_word_embeddings: false }],
  [
    "gpt2 classifier",
    "gpt2",
    { architectures: ["GPT2ForSequenceClassification"], id2label: { 0: "NEG", 1: "POS" } },
  ],
  ["llama (GQA 4/2, untied)", "llama", {}],
  ["llama (tied, MHA)", "llama", { tie_word_embeddings: true, num_key_value_heads: 4 }],
  ["llama classifier", "llama", { architectures: ["LlamaForSequenceClassification"], num_labels: 3 }],
  ["qwen2 (q/k/v biases)", "qwen2", {}],
  ["mistral", "mistral", { sliding_window: 16 }],
];

for (const [name, type, extra] of VARIANTS) {
  test(`${name}: forward pass equals an independent Float64 re-computation`, () => {
    const m = tinyDecoder(type, 3, extra);
    for (const ids of [IDS, IDS.slice(0, 3), [65]]) {
      const got = m.predict(makeBatch([{ ids }], 0)).data;
      const want = referenceDecoderLogits(m, ids);
      assert.equal(got.length, want.length);
      for (let i = 0; i < want.length; i++)
        assert.ok(near(got[i]!, want[i]!, 2e-5), `${name} logit ${i}: ${got[i]} vs ${want[i]}`);
    }
  });

  test(`${name}: save/load round trip keeps the logits`, () => {
    const m = tinyDecoder(type, 4, extra);
    const files = modelToFiles(m, "F32");
    const back = modelFromFiles({
      config: files["config.json"],
      weights: files["model.safetensors"],
      tokenizerJson: files["tokenizer.json"]!,
    });
    assert.deepEqual(back.config.task, m.config.task);
    const b = makeBatch([{ ids: IDS }], 0);
    assert.deepEqual(Array.from(back.predict(b).data), Array.from(m.predict(b).data));
  });

  test(`${name}, bias-free: lrp conserves relevance through every block, Σ R = f`, () => {
    const m = float64(tinyDecoder(type, 5, extra), true);
    const target = 1;
    const input = {
      model: m,
      batch: makeBatch([{ ids: IDS }], 0),
      target,
      options: { gamma: 0, steps: 1, seed: 0 },
    };
    const { E, grad, layers } = embeddingGradient(input, LRP_RULES, true);
    let sum = 0;
    for (let i = 0; i < E.size; i++) sum += E.data[i]! * grad[i]!;
    const f = m.predict(input.batch).data[target]!;
    for (const s of layers![0]!)
      assert.ok(near(s, f, 1e-4), `block sums ${layers![0]!.join(", ")} vs f = ${f}`);
    assert.ok(near(sum, f, 1e-4), `Σ R = ${sum}, f = ${f}`);
  });
}

test("attnlrp conserves where its rules are linear (the MLPs and norms), not through attention", () => {
  for (const type of ["gpt2", "llama"] as const) {
    // with the attention output projections zeroed, every block is residual + MLP: the identity rule on
    // the activation, the halved gated product and the held norm scale make it exactly conservative
    const m = float64(tinyDecoder(type, 6), true);
    for (const [name, t] of m.params) if (/attn\.c_proj\.weight|o_proj\.weight/.test(name)) t.data.fill(0);
    const input = {
      model: m,
      batch: makeBatch([{ ids: IDS }], 0),
      target: 2,
      options: { gamma: 0, steps: 1, seed: 0 },
    };
    const { layers } = embeddingGradient(input, ATTNLRP_RULES, true);
    const f = m.predict(input.batch).data[2]!;
    for (const s of layers![0]!) assert.ok(near(s, f, 1e-6), `${type}: ${layers![0]!.join(", ")} vs ${f}`);
    // with attention, the gradient through the softmax (and the halved P·V) loses conservation
    const full = float64(tinyDecoder(type, 6), true);
    const sums = embeddingGradient({ ...input, model: full }, ATTNLRP_RULES, true).layers![0]!;
    assert.ok(
      !near(sums[0]!, sums[sums.length - 1]!, 1e-6),
      `${type}: attnlrp conserved exactly through attention`,
    );
  }
});

test("causality: the hidden states of a prefix equal the first rows of the full sequence's", () => {
  for (const type of ["gpt2", "llama", "qwen2"] as const) {
    const m = tinyDecoder(type, 7);
    const last = (ids: number[]) => {
      const trace: Trace = { attention: [], blockInputs: [] };
      noGrad(() => m.forward(makeBatch([{ ids }], 0), { trace }));
      return trace.blockInputs[trace.blockInputs.length - 1]!.data;
    };
    const full = last(IDS);
    for (const k of [1, 4, 7]) {
      const prefix = last(IDS.slice(0, k));
      for (let i = 0; i < prefix.length; i++)
        assert.ok(Math.abs(prefix[i]! - full[i]!) < 1e-5, `${type} prefix ${k} entry ${i}`);
    }
  }
});

test("decoders batch right-padded texts: explainMany equals explaining one by one", () => {
  for (const type of ["gpt2", "llama"] as const) {
    const m = tinyDecoder(type, 8);
    const texts = ["Hello world", "a", "goo goo goo!", "Grüße 👋"];
    const methods = ["lrp", "gi", "attnlrp", "saliency", "rollout", "occlusion"];
    const batched = explainMany(m, texts, { methods });
    texts.forEach((t, i) => {
      const one = explain(m, t, { methods });
      assert.equal(batched[i]!.label, one.label);
      for (const id of methods) {
        const a = batched[i]!.explanations[id]!.attributions;
        const b = one.explanations[id]!.attributions;
        assert.equal(a.length, b.length);
        a.forEach((v, j) =>
          assert.ok(near(v, b[j]!, 1e-4), `${type} ${id} text ${i} token ${j}: ${v} vs ${b[j]}`),
        );
      }
    });
  }
});

test("next-token targets: default argmax, --target-token names one token, --contrast explains the difference", () => {
  const m = float64(tinyDecoder("gpt2", 9), true);
  const r = explain(m, "Hello goo", { methods: ["lrp"] });
  const logits = m.predict(makeBatch([{ ids: r.ids }], 0)).data;
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  assert.equal(r.targetToken!.id, best);
  assert.equal(r.labels[r.target], r.targetToken!.text);
  const t = explain(m, "Hello goo", { methods: ["lrp"], targetToken: " goo" });
  assert.equal(t.targetToken!.id, 258);
  assert.equal(t.targetToken!.text, " goo");
  const c = explain(m, "Hello goo", { methods: ["lrp", "occlusion"], targetToken: " goo", contrast: "!" });
  const f = logits[258]! - logits[33]!;
  assert.ok(near(c.explanations.lrp!.logit, f, 1e-9));
  assert.ok(near(c.explanations.lrp!.sum, f, 1e-6), `Σ R ${c.explanations.lrp!.sum} vs f ${f}`);
  assert.throws(
    () => explain(m, "Hello", { targetToken: " good" }),
    (e: unknown) =>
      e instanceof XaitError && e.exitCode === 2 && /" good" is 2 tokens \("Ġgoo", "d"\)/.test(e.message),
  );
  assert.throws(() => explain(m, "Hello", { targetToken: "" }), /empty/);
  assert.throws(() => explain(m, "Hello", { target: 5000 }), /not a token id/);
});

test("occlusion on a decoder replaces a token by <|endoftext|> (no unknown or pad token)", () => {
  const m = tinyDecoder("gpt2", 10);
  const r = explain(m, "Hi!", { methods: ["occlusion"] });
  const eos = 259;
  const base = m.predict(makeBatch([{ ids: r.ids }], 0)).data[r.targetToken!.id]!;
  r.ids.forEach((_, t) => {
    const ids = r.ids.map((id, j) => (j === t ? eos : id));
    const f = m.predict(makeBatch([{ ids }], 0)).data[r.targetToken!.id]!;
    assert.ok(near(r.explanations.occlusion!.attributions[t]!, base - f, 1e-5));
  });
});

test("a prompt longer than the context keeps its end, with a warning", () => {
  const m = tinyDecoder("gpt2", 11); // 32 positions
  const warnings: string[] = [];
  const text = "abcdefghijklmnopqrstuvwxyz0123456789END";
  const r = explain(m, text, { methods: ["gi"], warn: (w) => warnings.push(w) });
  assert.equal(r.tokens.length, 32);
  assert.equal(r.tokens.slice(-3).join(""), "END");
  assert.match(warnings.join(" "), /keeping its end/);
  const mistral = tinyDecoder("mistral", 11, { sliding_window: 8 });
  assert.equal(explain(mistral, text, { methods: ["gi"] }).tokens.length, 8);
});

test("byte-level tokenizer round-trips emoji, accents, CJK and whitespace", () => {
  const tok = tinyTokenizer();
  for (const text of [
    "Grüße, café — naïve",
    "👋🏽 family: 👨‍👩‍👧",
    "日本語のテキスト",
    "tabs\tand  spaces\nnew line",
    " goo goo",
  ]) {
    const enc = tok.encode(text);
    assert.equal(tok.decode(enc.ids), text, JSON.stringify(enc.tokens));
  }
  assert.equal(tok.special.eos, 259);
  assert.equal(tok.special.unk, undefined);
});

test("GPT-2 hub files without the transformer. prefix and with the causal-mask buffers load", () => {
  const m = tinyDecoder("gpt2", 12);
  const files = modelToFiles(m, "F32");
  const stored = readSafetensors(files["model.safetensors"]);
  const renamed = [...stored].map(([name, t]) => ({
    name: name.replace(/^transformer\./, ""),
    shape: t.shape,
    data: t.data,
  }));
  renamed.push({ name: "h.0.attn.bias", shape: [1, 1, 2, 2], data: new Float32Array([1, 0, 1, 1]) });
  const warnings: string[] = [];
  const back = modelFromFiles(
    {
      config: files["config.json"],
      weights: writeSafetensors(renamed, "F32"),
      tokenizerJson: byteLevelTokenizerJson(),
    },
    (w) => warnings.push(w),
  );
  assert.deepEqual(warnings, []);
  const b = makeBatch([{ ids: IDS }], 0);
  assert.deepEqual(Array.from(back.predict(b).data), Array.from(m.predict(b).data));
});

test("sharded weights load like one file; a tensor in two shards is refused", () => {
  const m = tinyDecoder("llama", 13);
  const files = modelToFiles(m, "F32");
  const all = [...readSafetensors(files["model.safetensors"])].map(([name, t]) => ({
    name,
    shape: t.shape,
    data: t.data,
  }));
  const half = Math.floor(all.length / 2);
  const shards = [
    { name: "model-00001-of-00002.safetensors", bytes: writeSafetensors(all.slice(0, half), "F32") },
    { name: "model-00002-of-00002.safetensors", bytes: writeSafetensors(all.slice(half), "F32") },
  ];
  const back = modelFromFiles({
    config: files["config.json"],
    weights: shards,
    tokenizerJson: byteLevelTokenizerJson(),
  });
  const b = makeBatch([{ ids: IDS }], 0);
  assert.deepEqual(Array.from(back.predict(b).data), Array.from(m.predict(b).data));
  const twice = [
    shards[0]!,
    { name: "extra.safetensors", bytes: writeSafetensors(all.slice(0, 1), "F32") },
    shards[1]!,
  ];
  assert.throws(
    () => modelFromFiles({ config: files["config.json"], weights: twice }),
    /extra\.safetensors: tensor .* is also in another shard/,
  );
});

test("decoder configs: unsupported rope_scaling, mismatched heads and shapes are named", () => {
  assert.throws(
    () => configFromObject(tinyDecoderConfig("llama", { rope_scaling: { type: "yarn", factor: 4 } })),
    /"rope_scaling" .* is not supported/,
  );
  assert.throws(
    () => configFromObject(tinyDecoderConfig("llama", { num_key_value_heads: 3 })),
    /4 attention heads cannot be grouped over 3/,
  );
  assert.throws(
    () => configFromObject(tinyDecoderConfig("gpt2", { n_layer: 1e12 })),
    /"n_layer" must be a positive integer up to 4096/,
  );
  assert.throws(
    () => configFromObject(tinyDecoderConfig("gpt2", { n_embd: "8" })),
    /"n_embd" must be a number, got "8"/,
  );
  const m = tinyDecoder("llama", 14);
  const files = modelToFiles(m, "F32");
  const wrong = JSON.stringify({ ...JSON.parse(files["config.json"]), intermediate_size: 16 });
  assert.throws(
    () => modelFromFiles({ config: wrong, weights: files["model.safetensors"] }),
    /model\.layers\.0\.mlp\.gate_proj\.weight has shape \[12,8\], config wants \[16,8\]/,
  );
});

test("perturbation protocol: a kept position (a decoder's explained token) is never replaced and not counted", () => {
  const ids = [10, 11, 12, 13, 14];
  const R = [5, 4, 3, 2, 1];
  const keep = 4;
  const gen = generateInputs(ids, R, 99, 0, keep);
  const prune = pruningInputs(ids, R, 99, 0, keep);
  for (const input of [...gen, ...prune]) assert.equal(input[keep], 14);
  // N = 4 other positions: at fraction 0.5 two are restored (generate) or replaced (pruning)
  assert.deepEqual(gen[0], [99, 99, 99, 99, 14]);
  assert.deepEqual(gen[5], [10, 11, 99, 99, 14]);
  assert.deepEqual(gen[10], ids);
  assert.deepEqual(prune[5], [10, 11, 99, 99, 14]);
  assert.deepEqual(prune[10], [99, 99, 99, 99, 14]);
});

test("the perturbation evaluation runs on a decoder classifier and on next-token targets", () => {
  const classifier = tinyDecoder("gpt2", 15, {
    architectures: ["GPT2ForSequenceClassification"],
    id2label: { 0: "NEG", 1: "POS" },
  });
  const samples = [
    { text: "goo goo!", label: 1 },
    { text: "Hello there", label: 0 },
    { text: "a", label: 1 },
  ];
  const r = evaluatePerturbation(classifier, samples, ["lrp", "gi", "random"], { seed: 1 });
  for (const id of ["lrp", "gi", "random"])
    for (const v of Object.values(r.metrics[id]!))
      assert.ok(Number.isFinite(v), `${id}: ${JSON.stringify(r.metrics[id])}`);
  // a language model: the label is the true next token
  const lm = tinyDecoder("llama", 15);
  const next = evaluatePerturbation(
    lm,
    [
      { text: "Hello wor", label: 108 },
      { text: "goo", label: 33 },
    ],
    ["lrp", "occlusion"],
    { seed: 1 },
  );
  assert.equal(next.n, 2);
  for (const v of Object.values(next.metrics.lrp!)) assert.ok(Number.isFinite(v));
});

test("a SentencePiece-style tokenizer (byte fallback, <s> template) works with a Llama model", () => {
  const tok = tokenizerFromJSON(sentencePieceTokenizerJson());
  const e = tok.encode("hello wörld 👋");
  assert.equal(e.tokens[0], "<s>");
  assert.ok(e.tokens.includes("<0xC3>"), "ö falls back to bytes");
  assert.equal(tok.decode(e.ids.slice(1)), "hello wörld 👋");
  const base = tinyDecoder("llama", 16, { vocab_size: 280 });
  const m = new TransformerModel(base.config, base.params, tok);
  const r = explain(m, "hello world", { methods: ["lrp", "occlusion"] });
  assert.deepEqual(r.tokens, ["<s>", "▁hello", "▁world"]);
  assert.equal(r.explanations.lrp!.attributions.length, 3);
  assert.equal(replacementToken(tok.special), 0, "occlusion replaces by <unk>");
});

test("logitsAll: the logits at position t are the next-token logits of the first t + 1 tokens", () => {
  for (const type of ["gpt2", "llama"] as const) {
    const m = tinyDecoder(type, 17);
    const all = noGrad(() => m.logitsAll(makeBatch([{ ids: IDS }], 0)));
    const V = m.numLabels;
    assert.deepEqual(all.shape, [1, IDS.length, V]);
    for (const t of [0, 3, IDS.length - 1]) {
      const prefix = m.predict(makeBatch([{ ids: IDS.slice(0, t + 1) }], 0)).data;
      for (let v = 0; v < V; v += 37)
        assert.ok(near(all.data[t * V + v]!, prefix[v]!, 1e-5), `${type} t=${t} v=${v}`);
    }
  }
  assert.throws(() => tinyModel("bert").logitsAll(makeBatch([{ ids: [2, 5, 3] }], 0)), /projection head/);
});

test("every method runs on a decoder; the attention maps read the explained (last) row", () => {
  for (const type of ["gpt2", "llama"] as const) {
    const m = tinyDecoder(type, 18);
    const r = explain(m, "Hello goo!", { methods: [...METHOD_IDS], steps: 4 });
    for (const id of METHOD_IDS) {
      const a = r.explanations[id]!.attributions;
      assert.equal(a.length, r.tokens.length, `${type} ${id}`);
      assert.ok(a.every(Number.isFinite), `${type} ${id}`);
    }
    // attention-last: the last row of the head-averaged last-layer attention, a distribution
    const trace: Trace = { attention: [], blockInputs: [] };
    noGrad(() => m.forward(makeBatch([{ ids: r.ids }], 0), { trace }));
    const P = trace.attention[trace.attention.length - 1]!.data;
    const T = r.tokens.length;
    const heads = m.config.numHeads;
    const row = Array.from({ length: T }, (_, j) => {
      let s = 0;
      for (let h = 0; h < heads; h++) s += P[h * T * T + (T - 1) * T + j]! / heads;
      return s;
    });
    r.explanations["attention-last"]!.attributions.forEach((v, j) => assert.ok(Math.abs(v - row[j]!) < 1e-6));
    assert.ok(Math.abs(row.reduce((x, y) => x + y, 0) - 1) < 1e-5);
    // rollout's explained row is a distribution over the tokens too
    const roll = r.explanations.rollout!.attributions;
    assert.ok(
      Math.abs(roll.reduce((x, y) => x + y, 0) - 1) < 1e-5,
      `${type} rollout row sums to ${roll.reduce((x, y) => x + y, 0)}`,
    );
  }
});
