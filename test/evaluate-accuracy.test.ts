import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeInput } from "../src/explain/index.js";
import { evaluateAccuracy, lengthBatches, predictAll } from "../src/evaluate/accuracy.js";
import { classByName, labelIds } from "../src/evaluate/labels.js";
import { referenceLogits, tinyModel } from "./helpers/tiny-models.js";

const TEXTS = [
  "good",
  "the bad movie",
  "a film",
  "not a very good film !",
  "bad",
  "the movie",
  "films .",
  "very bad film",
  "good good",
];

function argmaxReference(type: "bert" | "xai-transformer", seed: number): number[] {
  const m = tinyModel(type, seed);
  return TEXTS.map((t) => {
    const z = referenceLogits(m, Array.from(encodeInput(m, t).batch.ids));
    return z.indexOf(Math.max(...z));
  });
}

for (const type of ["bert", "xai-transformer"] as const) {
  test(`${type}: batched predictAll equals the one-by-one reference forward pass`, () => {
    const m = tinyModel(type, 8);
    const pred = predictAll(
      m,
      TEXTS.map((text) => ({ text })),
      { batchSize: 4 },
    );
    assert.deepEqual(pred, argmaxReference(type, 8));
  });
}

test("lengthBatches: sorted by length; equal-length batches for models without an attention mask", () => {
  const lengths = [3, 5, 3, 4, 5, 3];
  assert.deepEqual(lengthBatches(lengths, 2, false), [
    [0, 2],
    [5, 3],
    [1, 4],
  ]);
  assert.deepEqual(lengthBatches(lengths, 2, true), [[0, 2], [5], [3], [1, 4]]);
  assert.deepEqual(lengthBatches(lengths, 10, true), [[0, 2, 5], [3], [1, 4]]);
});

test("evaluateAccuracy on a tiny labelled set: accuracy and per-class scores by hand", () => {
  const m = tinyModel("bert", 8);
  const pred = argmaxReference("bert", 8);
  // gold: the predictions with the first three flipped
  const gold = pred.map((p, i) => (i < 3 ? 1 - p : p));
  const r = evaluateAccuracy(
    m,
    TEXTS.map((text, i) => ({ text, label: gold[i]! })),
  );
  assert.equal(r.n, 9);
  assert.equal(r.accuracy, 6 / 9);
  assert.deepEqual(r.predictions, pred);
  assert.deepEqual(
    r.classes.map((c) => c.label),
    ["NEGATIVE", "POSITIVE"],
  );
  for (let c = 0; c < 2; c++) {
    const tp = pred.filter((p, i) => p === c && gold[i] === c).length;
    const predicted = pred.filter((p) => p === c).length;
    const actual = gold.filter((g) => g === c).length;
    assert.equal(r.classes[c]!.precision, predicted ? tp / predicted : 0);
    assert.equal(r.classes[c]!.recall, actual ? tp / actual : 0);
    assert.equal(r.classes[c]!.support, actual);
  }
  assert.throws(() => evaluateAccuracy(m, []), /no examples/);
});

test("labels: names (any case) or integer class ids; unknown labels are errors naming them", () => {
  const m = tinyModel("bert", 1);
  assert.deepEqual(
    labelIds(m, [{ label: "positive" }, { label: "NEGATIVE" }, { label: "1" }, { label: "0" }]),
    [1, 0, 1, 0],
  );
  assert.throws(
    () => labelIds(m, [{ label: "neutral" }]),
    /label "neutral" is not one of the model's labels/,
  );
  assert.throws(() => labelIds(m, [{ label: "2" }]), /label "2"/);
  assert.equal(classByName(m, "Positive"), 1);
  assert.throws(() => classByName(m, "neutral"), /no class named 'neutral'/);
});
