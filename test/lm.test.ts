import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  makeBatch,
  type Trace,
  type TransformerModel,
  TransformerModel as Model,
} from "../src/models/index.js";
import { loadModel, saveModel } from "../src/models/folder-node.js";
import { buildByteLevelBPE, tokenizerFromJSON } from "../src/tokenize/index.js";
import { noGrad, Random } from "../src/tensor/index.js";
import { packDocuments, windowBatches } from "../src/train/lm-data.js";
import { languageModelMeasures, nextTokenLoss, trainLanguageModel } from "../src/train/lm.js";
import { classifierFromLanguageModel, decoderConfig, type DecoderArch } from "../src/train/decoders.js";
import { tinyDecoder } from "./helpers/tiny-decoders.js";
import { tempDir } from "./helpers/temp-dir.js";

test("packing: documents joined with the separator between them, cut into windows; the partial tail dropped", () => {
  const p = packDocuments([[1, 2, 3], [4, 5], [], [6, 7, 8, 9]], 0, 3);
  // stream 1 2 3 | 0 4 5 | 0 6 7 | 8 9 (dropped); the empty document adds no separator
  assert.deepEqual(p.windows, [
    [1, 2, 3],
    [0, 4, 5],
    [0, 6, 7],
  ]);
  assert.equal(p.tokens, 11);
  assert.equal(p.dropped, 2);
});

test("packing: every token of the stream lies in exactly one window, in order", () => {
  const rng = new Random(5);
  const docs = Array.from({ length: 40 }, () => Array.from({ length: rng.int(30) }, () => 1 + rng.int(50)));
  const sep = 99;
  const stream: number[] = [];
  for (const d of docs.filter((d) => d.length)) {
    if (stream.length) stream.push(sep);
    stream.push(...d);
  }
  for (const L of [2, 7, 16]) {
    const p = packDocuments(docs, sep, L);
    assert.ok(p.windows.every((w) => w.length === L));
    assert.equal(p.tokens, stream.length);
    assert.equal(p.dropped, stream.length % L);
    assert.deepEqual(p.windows.flat(), stream.slice(0, stream.length - p.dropped));
  }
  const batches = windowBatches(23, 5, new Random(1));
  assert.deepEqual(
    batches.flat().sort((a, b) => a - b),
    Array.from({ length: 23 }, (_, i) => i),
  );
  assert.ok(batches.every((b) => b.length <= 5));
});

test("next-token loss: the mean of −log p(token t+1 | tokens ≤ t) over the window's T − 1 positions", () => {
  const model = tinyDecoder("gpt2");
  const windows = [
    [5, 9, 100, 3, 7],
    [1, 2, 250, 4, 259],
  ];
  const { loss, count } = noGrad(() => nextTokenLoss(model, windows));
  assert.equal(count, 8);
  const logits = noGrad(() =>
    model.logitsAll(
      makeBatch(
        windows.map((ids) => ({ ids })),
        0,
      ),
    ),
  );
  const V = logits.shape[2]!;
  let sum = 0;
  windows.forEach((w, r) => {
    for (let t = 0; t < 4; t++) {
      const row = Array.from(logits.data.subarray((r * 5 + t) * V, (r * 5 + t + 1) * V));
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
      sum += lse - row[w[t + 1]!]!;
    }
  });
  assert.ok(Math.abs(loss.item() - sum / 8) < 1e-5, `${loss.item()} vs ${sum / 8}`);
});

const SENTENCE = "the cat sat on the mat. ";
const TEXT = Array.from({ length: 24 }, () => SENTENCE.repeat(6));

/** The greedy continuation of a prompt, `n` tokens, as text. */
function continuation(model: TransformerModel, prompt: string, n: number): string {
  const tok = model.tokenizer!;
  const ids = tok.pieces(prompt).ids;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const logits = model.predict(makeBatch([{ ids: [...ids, ...out] }], 0)).data;
    let arg = 0;
    for (let v = 1; v < logits.length; v++) if (logits[v]! > logits[arg]!) arg = v;
    out.push(arg);
  }
  return tok.decode(out);
}

for (const arch of ["gpt2", "llama"] as const satisfies readonly DecoderArch[]) {
  test(`${arch}: a tiny LM trained for a few epochs on repetitive text falls far below ln V and, saved and loaded, continues it`, async () => {
    const tokenizer = tokenizerFromJSON(buildByteLevelBPE(TEXT, { vocabSize: 280, minFrequency: 2 }));
    const eos = tokenizer.special.eos!;
    const packed = packDocuments(
      TEXT.map((t) => tokenizer.pieces(t).ids),
      eos,
      16,
    );
    const config = decoderConfig(arch, {
      vocabSize: tokenizer.vocabSize,
      hidden: 32,
      layers: 2,
      heads: 4,
      kvHeads: arch === "llama" ? 2 : 4,
      intermediate: 64,
      maxPositions: 16,
      eos,
    });
    const model = Model.initialise(config, 3, tokenizer);
    const lnV = Math.log(tokenizer.vocabSize);
    const before = languageModelMeasures(model, packed.windows);
    assert.ok(Math.abs(before.loss - lnV) < 0.5, `untrained loss ${before.loss}, ln V ${lnV}`);
    const result = await trainLanguageModel(
      model,
      packed.windows,
      { epochs: 12, batchSize: 8, lr: 1e-2, warmup: 0.1, weightDecay: 0.01, dropout: 0, seed: 1 },
      { evaluate: (m) => languageModelMeasures(m, packed.windows) },
    );
    const last = result.epochs[result.epochs.length - 1]!;
    assert.ok(last.validation.loss < 0.1 * lnV, `loss ${last.validation.loss} vs ln V ${lnV}`);
    assert.ok(Math.abs(last.validation.perplexity - Math.exp(last.validation.loss)) < 1e-9);
    const dir = join(tempDir("xait-lm-"), arch);
    saveModel(model, dir);
    const loaded = loadModel(dir);
    assert.equal(loaded.config.task, "causal-lm");
    const text = continuation(loaded, "the cat sat on the", 3);
    assert.ok(text.startsWith(" mat."), JSON.stringify(text));
  });
}

for (const type of ["gpt2", "llama"] as const) {
  test(`${type}: an LM turned into a classifier keeps every body tensor bit for bit and computes the same hidden states`, () => {
    const lm = tinyDecoder(type);
    const cls = classifierFromLanguageModel(lm, ["neg", "pos"], 9);
    assert.equal(cls.config.task, "classification");
    assert.deepEqual(cls.config.labels, ["neg", "pos"]);
    assert.equal(cls.tokenizer, lm.tokenizer);
    const score = cls.params.get("score.weight")!;
    assert.deepEqual(score.shape, [2, lm.config.hiddenSize]);
    let ss = 0;
    for (const v of score.data) ss += v * v;
    assert.ok(Math.sqrt(ss / score.size) > 0.005 && Math.sqrt(ss / score.size) < 0.05);
    let body = 0;
    for (const [name, t] of cls.params) {
      if (name === "score.weight") continue;
      const src = lm.params.get(name);
      assert.ok(src, `${name} comes from the LM`);
      assert.deepEqual(
        new Uint32Array(t.data.buffer.slice(0)),
        new Uint32Array(src.data.buffer.slice(0)),
        name,
      );
      assert.notEqual(t.data, src.data, `${name} is a copy`);
      body++;
    }
    assert.equal(body, lm.trainableParameters().filter(([n]) => n !== "lm_head.weight").length);
    assert.ok(!cls.params.has("lm_head.weight"));
    const batch = makeBatch([{ ids: [3, 50, 7, 9] }, { ids: [11, 4] }], 259);
    const trace = (): Trace => ({ attention: [], blockInputs: [] });
    const a = trace();
    const b = trace();
    noGrad(() => lm.forward(batch, { trace: a }));
    noGrad(() => cls.forward(batch, { trace: b }));
    assert.equal(a.blockInputs.length, lm.config.numLayers + 1);
    a.blockInputs.forEach((h, i) =>
      assert.deepEqual(Array.from(b.blockInputs[i]!.data), Array.from(h.data), `layer ${i}`),
    );
    const round = loadModelRoundTrip(cls);
    assert.equal(round.config.task, "classification");
  });
}

function loadModelRoundTrip(m: TransformerModel): TransformerModel {
  const dir = join(tempDir("xait-cls-"), "m");
  saveModel(m, dir);
  return loadModel(dir);
}
