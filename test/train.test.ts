import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { makeBatch, parseConfig, TransformerModel } from "../src/models/index.js";
import { loadModel, saveModel } from "../src/models/folder-node.js";
import { buildWordPieceVocabulary } from "../src/tokenize/index.js";
import { Random, noGrad } from "../src/tensor/index.js";
import { train } from "../src/train/trainer.js";
import { AdamW, linearSchedule } from "../src/train/optimizer.js";
import { WeightAverage } from "../src/train/average.js";
import { cropToShortest, epochBatches, type EncodedExample } from "../src/train/batches.js";
import { Tensor } from "../src/tensor/index.js";
import { tempDir } from "./helpers/temp-dir.js";

const WORDS = ["the", "movie", "film", "plot", "was", "is", "a", "very", "quite", "story", "actors", "and"];

/** Sentences whose label is whether "good" occurs. */
function synthetic(n: number, seed: number): { text: string; label: number }[] {
  const rng = new Random(seed);
  return Array.from({ length: n }, () => {
    const words = Array.from({ length: 3 + rng.int(4) }, () => WORDS[rng.int(WORDS.length)]!);
    const label = rng.next() < 0.5 ? 1 : 0;
    if (label) words.splice(rng.int(words.length + 1), 0, "good");
    return { text: words.join(" "), label };
  });
}

function setup(arch: "bert" | "xai-transformer", seed = 1) {
  const rows = synthetic(160, seed);
  const tokenizer = buildWordPieceVocabulary(
    rows.map((r) => r.text),
    { minFrequency: 1 },
  );
  const config = parseConfig(
    JSON.stringify({
      model_type: arch,
      vocab_size: tokenizer.vocabSize,
      hidden_size: 16,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      intermediate_size: 32,
      max_position_embeddings: 16,
      layer_norm_eps: 1e-5,
      id2label: { "0": "NO", "1": "YES" },
    }),
  );
  const model = TransformerModel.initialise(config, 7, tokenizer);
  const data: EncodedExample[] = rows.map((r) => {
    const e = tokenizer.encode(r.text);
    return { ids: e.ids, typeIds: e.typeIds, label: r.label };
  });
  const evaluate = (m: TransformerModel) => {
    let ok = 0;
    for (const d of data) {
      const l = noGrad(() => m.forward(makeBatch([d], 0))).data;
      if ((l[1]! > l[0]! ? 1 : 0) === d.label) ok++;
    }
    return ok / data.length;
  };
  return { model, data, evaluate };
}

const OPTS = { epochs: 12, batchSize: 16, lr: 3e-3, warmup: 0.1, weightDecay: 0.01, dropout: 0, seed: 3 };

for (const arch of ["bert", "xai-transformer"] as const) {
  test(`${arch}: a tiny model learns "label = whether 'good' occurs" to 100%`, async () => {
    const { model, data, evaluate } = setup(arch);
    const result = await train(model, data, OPTS, { evaluate });
    assert.equal(
      result.bestAccuracy,
      1,
      `accuracies ${result.epochs.map((e) => e.validationAccuracy).join(", ")}`,
    );
    assert.ok(result.epochs[result.epochs.length - 1]!.loss < result.epochs[0]!.loss);
  });
}

test("training is deterministic for a seed: identical weights", async () => {
  const a = setup("bert");
  const b = setup("bert");
  const o = { ...OPTS, epochs: 2, dropout: 0.1 };
  await train(a.model, a.data, o, { evaluate: () => 0 });
  await train(b.model, b.data, o, { evaluate: () => 0 });
  for (const [name, t] of a.model.params)
    assert.deepEqual(Array.from(t.data), Array.from(b.model.params.get(name)!.data), name);
});

test("shouldStop: events queued before training run between steps, and training stops after that step", async () => {
  const { model, data, evaluate } = setup("bert");
  let stop = false;
  setTimeout(() => (stop = true), 0); // as a signal handler would: runs only when the trainer yields
  let steps = 0;
  const result = await train(model, data, OPTS, { evaluate, onStep: () => steps++, shouldStop: () => stop });
  assert.equal(result.stopped, true);
  assert.equal(steps, 1);
  assert.equal(result.steps, 1);
  assert.deepEqual(result.epochs, []);
});

test("exact-length batches for the mask-free xai-transformer; length-sorted windows otherwise", () => {
  const { data } = setup("bert");
  for (const b of epochBatches(data, 8, new Random(1), true))
    assert.equal(new Set(b.map((i) => data[i]!.ids.length)).size, 1);
  const all = epochBatches(data, 8, new Random(1), false)
    .flat()
    .sort((x, y) => x - y);
  assert.deepEqual(
    all,
    data.map((_, i) => i),
  );
});

test("linear warmup then linear decay", () => {
  assert.equal(linearSchedule(0, 100, 10, 1), 0.1);
  assert.equal(linearSchedule(9, 100, 10, 1), 1);
  assert.equal(linearSchedule(10, 100, 10, 1), 1);
  assert.ok(Math.abs(linearSchedule(55, 100, 10, 1) - 0.5) < 1e-12);
  assert.equal(linearSchedule(100, 100, 10, 1), 0);
});

test("AdamW: the first step moves each weight by lr against the gradient's sign, plus decoupled decay", () => {
  const w = Tensor.fromArray([1, -2]);
  w.grad = Float32Array.from([0.5, -3]);
  const opt = new AdamW([w], [true], { weightDecay: 0.1 });
  opt.update(0.01);
  // m̂ = g, v̂ = g² → update = g/|g| = sign(g); decay term lr·wd·w
  assert.ok(Math.abs(w.data[0]! - (1 - 0.01 * (1 + 0.1 * 1))) < 1e-6);
  assert.ok(Math.abs(w.data[1]! - (-2 - 0.01 * (-1 + 0.1 * -2))) < 1e-6);
  assert.equal(w.grad, null);
});

test("saving is atomic: the folder is replaced whole, no temporary files remain, and it loads back", () => {
  const dir = join(tempDir("xait-save-"), "model");
  const { model } = setup("bert");
  saveModel(model, dir, { extra: { "training.json": "{}\n" } });
  saveModel(model, dir, { dtype: "F16", extra: { "training.json": '{"second":true}\n' } });
  assert.deepEqual(readdirSync(join(dir, "..")), ["model"]);
  assert.deepEqual(readdirSync(dir).sort(), [
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "training.json",
  ]);
  assert.match(readFileSync(join(dir, "training.json"), "utf8"), /second/);
  const back = loadModel(dir);
  assert.equal(back.config.labels.join(), "NO,YES");
  assert.ok(!existsSync(`${dir}.tmp-${process.pid}`));
});

test("cropToShortest shortens a batch to its shortest text and keeps each final [SEP]", () => {
  const batch: EncodedExample[] = [
    { ids: [2, 10, 11, 12, 3], typeIds: [0, 0, 0, 0, 0], label: 1 },
    { ids: [2, 20, 3], typeIds: [0, 0, 0], label: 0 },
    { ids: [2, 30, 31, 3], typeIds: [0, 0, 1, 1], label: 1 },
  ];
  assert.deepEqual(cropToShortest(batch), [
    { ids: [2, 10, 3], typeIds: [0, 0, 0], label: 1 },
    { ids: [2, 20, 3], typeIds: [0, 0, 0], label: 0 },
    { ids: [2, 30, 3], typeIds: [0, 0, 1], label: 1 },
  ]);
  assert.deepEqual(batch[0]!.ids, [2, 10, 11, 12, 3], "the input is not changed");
});

test("xai-transformer with cropBatches: full batches of mixed lengths, and it still learns the rule", async () => {
  const { model, data, evaluate } = setup("xai-transformer");
  let steps = 0;
  const result = await train(
    model,
    data,
    { ...OPTS, cropBatches: true },
    { evaluate, onStep: () => steps++ },
  );
  assert.equal(steps, OPTS.epochs * Math.ceil(data.length / OPTS.batchSize), "batches are full");
  assert.ok(
    result.bestAccuracy >= 0.95,
    `accuracies ${result.epochs.map((e) => e.validationAccuracy).join(", ")}`,
  );
});

test("WeightAverage: warmed-up decay, swap exchanges the weights and swaps back", () => {
  const p = Tensor.fromArray([1, 2], [2]);
  const avg = new WeightAverage([p], 0.9);
  p.data.set([3, 4]);
  assert.equal(avg.currentDecay(), 0.1); // min(0.9, 1/10)
  avg.update(); // 0.1·[1,2] + 0.9·[3,4]
  p.data.set([5, 6]);
  const d = 2 / 11;
  avg.update();
  avg.swap();
  const want = [d * 2.8 + (1 - d) * 5, d * 3.8 + (1 - d) * 6];
  want.forEach((w, i) => assert.ok(Math.abs(p.data[i]! - w) < 1e-5, `${p.data[i]} vs ${w}`));
  assert.throws(() => avg.update(), /swapped/);
  avg.swap();
  assert.deepEqual([...p.data], [5, 6]);
  for (let t = 0; t < 1000; t++) avg.update();
  assert.equal(avg.currentDecay(), 0.9);
  assert.throws(() => new WeightAverage([p], 1), /decay/);
});

test("averageDecay: each epoch evaluates and offers the moving average of the weights, training itself unchanged", async () => {
  const decay = 0.95;
  // reference: plain training, with the moving average computed by hand after every step
  const ref = setup("bert");
  const refParams = ref.model.trainableParameters().map(([, t]) => t);
  let manual = refParams.map((t) => Float64Array.from(t.data));
  let updates = 0;
  const manualAtEpoch: Float64Array[][] = [];
  const refResult = await train(
    ref.model,
    ref.data,
    { ...OPTS, epochs: 3 },
    {
      evaluate: ref.evaluate,
      onStep: () => {
        const d = Math.min(decay, (1 + updates) / (10 + updates));
        updates++;
        manual = manual.map((a, k) => a.map((v, i) => d * v + (1 - d) * refParams[k]!.data[i]!));
      },
      onEpoch: () => manualAtEpoch.push(manual.map((a) => a.slice())),
    },
  );
  const refLast = refParams.map((t) => Float32Array.from(t.data));

  const avg = setup("bert");
  const params = avg.model.trainableParameters().map(([, t]) => t);
  const seenAtEpoch: Float32Array[][] = [];
  const result = await train(
    avg.model,
    avg.data,
    { ...OPTS, epochs: 3, averageDecay: decay },
    {
      evaluate: avg.evaluate,
      onEpoch: () => seenAtEpoch.push(params.map((t) => Float32Array.from(t.data))),
    },
  );
  assert.equal(result.epochs.length, 3);
  for (let e = 0; e < 3; e++) {
    // the last-step accuracy is the plain run's; the offered weights are the moving average
    assert.equal(result.epochs[e]!.lastStepValidationAccuracy, refResult.epochs[e]!.validationAccuracy);
    let worst = 0;
    seenAtEpoch[e]!.forEach((w, k) =>
      w.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - manualAtEpoch[e]![k]![i]!)))),
    );
    assert.ok(
      worst < 1e-5,
      `epoch ${e + 1}: averaged weights differ from the hand-computed average by ${worst}`,
    );
  }
  // after training the model holds the last step's weights, the same as without averaging
  params.forEach((t, k) => assert.deepEqual(t.data, refLast[k]));
  assert.equal(refResult.epochs[0]!.lastStepValidationAccuracy, undefined);
});
