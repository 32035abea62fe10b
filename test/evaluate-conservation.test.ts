import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeInput, getMethod } from "../src/explain/index.js";
import { conservationStats, evaluateConservation } from "../src/evaluate/conservation.js";
import { referenceLogits, tinyModel } from "./helpers/tiny-models.js";

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

test("conservationStats on hand-made points", () => {
  // on the diagonal: r = 1, slope = 1, no gap
  const d = conservationStats([-1, 0.5, 2, 3], [-1, 0.5, 2, 3]);
  close(d.pearson, 1);
  close(d.slope, 1);
  close(d.meanAbsDiff, 0);
  assert.equal(d.n, 4);
  // ΣR = 2f + 1: perfectly correlated but not conserved; gaps |f + 1| = 2, 3, 4, 5
  const a = conservationStats([1, 2, 3, 4], [3, 5, 7, 9]);
  close(a.pearson, 1);
  close(a.slope, 2);
  close(a.meanAbsDiff, 3.5);
  // f = 0, 1, 2 and ΣR = 1, 0, 2: cov = 1, var f = 2, var ΣR = 2 → slope ½, r = ½; gaps 1, 1, 0
  const b = conservationStats([0, 1, 2], [1, 0, 2]);
  close(b.slope, 0.5);
  close(b.pearson, 0.5);
  close(b.meanAbsDiff, 2 / 3);
  assert.ok(Number.isNaN(conservationStats([1, 1], [0, 2]).pearson));
  assert.throws(() => conservationStats([1], [1, 2]), /1 logits but 2 sums/);
});

test("evaluateConservation: per sentence Σ R of each method beside the true-class logit", () => {
  const m = tinyModel("xai-transformer", 9);
  const samples = [
    { text: "the good film", label: 1 },
    { text: "not a bad movie !", label: 0 },
    { text: "very very good .", label: 1 },
  ];
  const r = evaluateConservation(m, samples, ["gi", "lrp"]);
  assert.equal(r.n, 3);
  assert.deepEqual(r.methods, ["gi", "lrp"]);
  r.points.forEach((p, i) => {
    const { batch } = encodeInput(m, samples[i]!.text);
    assert.equal(p.index, i);
    assert.equal(p.target, samples[i]!.label);
    close(p.logit, referenceLogits(m, Array.from(batch.ids))[samples[i]!.label]!, 1e-5);
    for (const id of ["gi", "lrp"]) {
      const R = getMethod(id).run({
        model: m,
        batch,
        target: samples[i]!.label,
        options: { gamma: 0, steps: 50, seed: 0 },
      }).attributions;
      close(
        p.sums[id]!,
        R.reduce((x, y) => x + y, 0),
        1e-9,
      );
    }
  });
  for (const id of ["gi", "lrp"]) {
    const want = conservationStats(
      r.points.map((p) => p.logit),
      r.points.map((p) => p.sums[id]!),
    );
    const { head, encoder, ...stats } = r.summary[id]!;
    assert.deepEqual(stats, want);
    // per-block sums: the top of the encoder against f, the embeddings against the top
    const logits = r.points.map((p) => p.logit);
    const top = r.points.map((p) => p.layers![id]!.at(-1)!);
    const bottom = r.points.map((p) => p.layers![id]![0]!);
    assert.deepEqual(head, {
      pearson: conservationStats(logits, top).pearson,
      slope: conservationStats(logits, top).slope,
    });
    assert.deepEqual(encoder, {
      pearson: conservationStats(top, bottom).pearson,
      slope: conservationStats(top, bottom).slope,
    });
    r.points.forEach((p) => assert.equal(p.layers![id]!.length, m.config.numLayers + 1));
  }
  assert.deepEqual(evaluateConservation(m, samples.slice(0, 1)).methods, ["gi", "lrp-ah", "lrp", "attnlrp"]);
  assert.throws(() => evaluateConservation(m, []), /no samples/);
});
