import { test } from "node:test";
import assert from "node:assert/strict";
import { XaitError } from "../src/errors.js";
import { encodeInput, getMethod } from "../src/explain/index.js";
import { evaluatePerturbation, sampleSeed } from "../src/evaluate/run-perturbation.js";
import type { Batch, TransformerModel } from "../src/models/index.js";
import { Random } from "../src/tensor/index.js";
import { referenceLogits, tinyModel } from "./helpers/tiny-models.js";

const softmax = (z: number[]) => {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

/**
 * The perturbation protocol written out independently for one unpadded sample: the 11 generate and
 * 11 pruning inputs, each run through the Float64 reference forward pass one by one.
 */
function handCurves(m: TransformerModel, ids: number[], typeIds: number[], R: number[], target: number) {
  const N = ids.length;
  const unk = m.tokenizer!.special.unk!;
  const positions = ids.map((_, i) => i);
  const highFirst = positions.slice().sort((a, b) => R[b]! - R[a]! || a - b);
  const smallAbsFirst = positions.slice().sort((a, b) => Math.abs(R[a]!) - Math.abs(R[b]!) || a - b);
  const y0 = referenceLogits(m, ids, typeIds);
  const generate: number[] = [];
  const pruning: number[] = [];
  const mse: number[] = [];
  for (let k = 0; k <= 10; k++) {
    const n = Math.ceil((k * N) / 10); // exact: k·N and the quotient are small integers or exact
    const g = ids.map(() => unk);
    for (const i of highFirst.slice(0, n)) g[i] = ids[i]!;
    generate.push(softmax(referenceLogits(m, g, typeIds))[target]!);
    const p = ids.slice();
    for (const i of smallAbsFirst.slice(0, n)) p[i] = unk;
    const y = referenceLogits(m, p, typeIds);
    pruning.push(softmax(y)[target]!);
    mse.push(y.reduce((s, v, c) => s + (y0[c]! - v) ** 2, 0));
  }
  return { generate, pruning, mse };
}

const area = (ys: number[]) => 0.1 * (ys.slice(1, 10).reduce((a, b) => a + b, 0) + (ys[0]! + ys[10]!) / 2);
const closeAll = (a: number[], b: number[], eps: number, what: string) => {
  assert.equal(a.length, b.length, what);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) <= eps, `${what}[${i}]: ${v} vs ${b[i]}`));
};

function attributionsOf(m: TransformerModel, text: string, method: string, target: number, seed = 0) {
  const { batch } = encodeInput(m, text);
  const out = getMethod(method).run({ model: m, batch, target, options: { gamma: 0, steps: 50, seed } });
  return { ids: Array.from(batch.ids), typeIds: Array.from(batch.typeIds), R: out.attributions };
}

for (const type of ["xai-transformer", "bert"] as const) {
  test(`${type}: one sample's curves and areas equal a hand-rolled run of the protocol`, () => {
    const m = tinyModel(type, 5);
    const text = "the good movie ! not bad";
    const target = 1;
    const r = evaluatePerturbation(m, [{ text, label: target }], ["gi", "lrp"], { seed: 3 });
    assert.equal(r.n, 1);
    assert.deepEqual(r.methods, ["gi", "lrp"]);
    for (const id of ["gi", "lrp"]) {
      const { ids, typeIds, R } = attributionsOf(m, text, id, target);
      const hand = handCurves(m, ids, typeIds, R, target);
      const c = r.curves[id]!;
      closeAll(c.generate, hand.generate, 1e-5, `${id} generate`);
      closeAll(c.pruning, hand.pruning, 1e-5, `${id} pruning`);
      closeAll(c.mse, hand.mse, 1e-4, `${id} mse`);
      assert.ok(Math.abs(r.metrics[id]!.AUAC - area(hand.generate)) < 1e-5);
      assert.ok(Math.abs(r.metrics[id]!.AUPC - area(hand.pruning)) < 1e-5);
      assert.ok(Math.abs(r.metrics[id]!["AU-MSE"] - area(hand.mse)) < 1e-4);
      // fraction 1 of generate and fraction 0 of pruning are both the unperturbed input
      assert.ok(Math.abs(c.generate[10]! - c.pruning[0]!) < 1e-6);
      assert.equal(c.mse[0], 0);
      assert.ok(r.timing[id]!.total_s >= 0 && r.timing[id]!.per_sample_ms >= 0);
    }
  });
}

test("curves are averaged over samples first, then integrated", () => {
  const m = tinyModel("xai-transformer", 2);
  const samples = [
    { text: "good film", label: 1 },
    { text: "a very bad movie .", label: 0 },
  ];
  const both = evaluatePerturbation(m, samples, ["gi"], { seed: 0 });
  const one = samples.map((s) => evaluatePerturbation(m, [s], ["gi"], { seed: 0 }).curves.gi!);
  const mean = (k: "generate" | "pruning" | "mse") => one[0]![k].map((v, i) => (v + one[1]![k][i]!) / 2);
  closeAll(both.curves.gi!.generate, mean("generate"), 1e-12, "generate");
  closeAll(both.curves.gi!.mse, mean("mse"), 1e-12, "mse");
  assert.ok(Math.abs(both.metrics.gi!.AUAC - area(mean("generate"))) < 1e-12);
  assert.ok(Math.abs(both.metrics.gi!["AU-MSE"] - area(mean("mse"))) < 1e-12);
  // the bootstrap resamples the samples' own areas, whose mean is the area of the mean curve
  const auac = both.bootstrap.metrics.AUAC;
  assert.equal(auac.best, "gi");
  const [lo, hi] = auac.interval.gi!;
  const areas = one.map((c) => area(c.generate)).sort((a, b) => a - b);
  assert.ok(lo >= areas[0]! - 1e-12 && hi <= areas[1]! + 1e-12 && lo <= hi, `${lo} ${hi} ${areas}`);
  assert.ok(Math.abs((areas[0]! + areas[1]!) / 2 - both.metrics.gi!.AUAC) < 1e-12);
  assert.equal(both.bootstrap.resamples, 2000);
  assert.equal(both.bootstrap.level, 0.95);
});

test("all perturbed inputs of a sample go through the model in one unpadded batch, each once", () => {
  const m = tinyModel("xai-transformer", 4);
  const batches: Batch[] = [];
  const forward = m.forward.bind(m);
  m.forward = (b, o) => {
    batches.push(b);
    return forward(b, o);
  };
  const samples = [
    { text: "good movie", label: 1 },
    { text: "the film is very bad !", label: 0 },
  ];
  const r = evaluatePerturbation(m, samples, ["gi", "random"], { seed: 0 });
  assert.equal(batches.length, 2); // gi and random do not call forward(); one batch per sample
  samples.forEach((s, i) => {
    const b = batches[i]!;
    const T = b.seq;
    const rows = Array.from({ length: b.batch }, (_, k) =>
      Array.from(b.ids.subarray(k * T, (k + 1) * T)).join(","),
    );
    assert.equal(new Set(rows).size, rows.length, "no input twice");
    assert.ok(b.mask.every((v) => v === 1));
    // every input of the hand-built protocol is among the rows
    for (const [id, seed] of [
      ["gi", 0],
      ["random", sampleSeed(0, i)],
    ] as const) {
      const { ids, R } = attributionsOf(m, s.text, id, s.label, seed);
      assert.equal(ids.length, T);
      const unk = m.tokenizer!.special.unk!;
      const N = ids.length;
      const high = ids.map((_, p) => p).sort((x, y) => R[y]! - R[x]! || x - y);
      const low = ids.map((_, p) => p).sort((x, y) => Math.abs(R[x]!) - Math.abs(R[y]!) || x - y);
      for (let k = 0; k <= 10; k++) {
        const n = Math.ceil((k * N) / 10);
        const g = ids.map((t, p) => (high.slice(0, n).includes(p) ? t : unk));
        const q = ids.map((t, p) => (low.slice(0, n).includes(p) ? unk : t));
        assert.ok(rows.includes(g.join(",")) && rows.includes(q.join(",")), `${id} k=${k}`);
      }
    }
  });
  assert.equal(r.perturbedInputs, batches[0]!.batch + batches[1]!.batch);
});

test("random: a fresh, seeded permutation per sample, reproducible from --seed", () => {
  const m = tinyModel("bert", 6);
  const samples = [
    { text: "the good movie !", label: 1 },
    { text: "the good movie !", label: 1 },
  ];
  const a = evaluatePerturbation(m, samples, ["random"], { seed: 11 });
  const b = evaluatePerturbation(m, samples, ["random"], { seed: 11 });
  assert.deepEqual(a.curves, b.curves);
  const c = evaluatePerturbation(m, samples, ["random"], { seed: 12 });
  assert.notDeepEqual(a.curves, c.curves);
  // sample i is scored by Random(sampleSeed(seed, i)): recompute the mean of the two samples by hand
  const hand = [0, 1].map((i) => {
    const { ids, typeIds } = attributionsOf(m, samples[i]!.text, "gi", 1);
    const rng = new Random(sampleSeed(11, i));
    return handCurves(
      m,
      ids,
      typeIds,
      ids.map(() => rng.normal()),
      1,
    );
  });
  closeAll(
    a.curves.random!.generate,
    hand[0]!.generate.map((v, k) => (v + hand[1]!.generate[k]!) / 2),
    1e-5,
    "random generate",
  );
  assert.notEqual(sampleSeed(11, 0), sampleSeed(11, 1));
  assert.notEqual(sampleSeed(11, 1), sampleSeed(12, 0));
});

test("bad input: no samples, an unknown method, a label outside the model's classes", () => {
  const m = tinyModel("bert", 1);
  assert.throws(() => evaluatePerturbation(m, [], ["gi"], { seed: 0 }), /no samples/);
  assert.throws(
    () => evaluatePerturbation(m, [{ text: "good", label: 0 }], ["nope"], { seed: 0 }),
    (e: unknown) => e instanceof XaitError && e.exitCode === 2 && /unknown method 'nope'/.test(e.message),
  );
  assert.throws(
    () => evaluatePerturbation(m, [{ text: "good", label: 2 }], ["gi"], { seed: 0 }),
    /label 2 is not one of the model's 2 classes/,
  );
});
