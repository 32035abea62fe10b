import { test } from "node:test";
import assert from "node:assert/strict";
import { bootstrapMetrics, compareMethods, quantileSorted } from "../src/evaluate/bootstrap.js";
import { Random } from "../src/tensor/random.js";

const mean = (v: readonly number[]) => v.reduce((s, x) => s + x, 0) / v.length;

function normals(n: number, seed: number, shift = 0): number[] {
  const rng = new Random(seed);
  return Array.from({ length: n }, () => rng.normal() + shift);
}

test("quantileSorted interpolates between order statistics", () => {
  assert.equal(quantileSorted([1, 2, 3, 4, 5], 0), 1);
  assert.equal(quantileSorted([1, 2, 3, 4, 5], 1), 5);
  assert.equal(quantileSorted([1, 2, 3, 4, 5], 0.5), 3);
  assert.equal(quantileSorted([0, 10], 0.25), 2.5);
  assert.equal(quantileSorted([7], 0.975), 7);
  assert.throws(() => quantileSorted([], 0.5), /no values/);
});

test("the interval of a mean: around the mean, about ±1.96 standard errors wide", () => {
  const a = normals(400, 1);
  const c = compareMethods({ a }, true, { seed: 3 });
  const [lo, hi] = c.interval.a!;
  assert.ok(lo < mean(a) && mean(a) < hi, `${lo} < ${mean(a)} < ${hi}`);
  const sd = Math.sqrt(a.reduce((s, x) => s + (x - mean(a)) ** 2, 0) / (a.length - 1));
  const expected = (2 * 1.96 * sd) / Math.sqrt(a.length);
  assert.ok(Math.abs(hi - lo - expected) < 0.15 * expected, `width ${hi - lo}, expected ≈ ${expected}`);
  assert.equal(c.best, "a");
  assert.deepEqual(c.tied, []);
  assert.deepEqual(c.differenceToBest, {});
});

test("paired: a constant shift is separable however noisy the texts; a copy of the best is not", () => {
  const base = normals(50, 2);
  const c = compareMethods(
    { low: base.map((x) => x - 0.01), best: base, copy: base.slice(), other: normals(50, 9, -3) },
    true,
    { seed: 1 },
  );
  assert.equal(c.best, "best"); // the first of two equal means
  // the same resampled texts for every method: the difference to the best is exactly -0.01 each time
  const [dlo, dhi] = c.differenceToBest.low!;
  assert.ok(Math.abs(dlo + 0.01) < 1e-12 && Math.abs(dhi + 0.01) < 1e-12, `${dlo} ${dhi}`);
  assert.deepEqual(c.differenceToBest.copy, [0, 0]);
  assert.deepEqual(c.tied, ["copy"]);
  // unpaired, the two intervals overlap almost entirely
  assert.ok(c.interval.low![1] > c.interval.best![0]);
});

test("lower is better: the smallest mean is the best; ties found both ways", () => {
  const a = normals(200, 4);
  const b = a.map((x, i) => x + (i % 2 ? 0.05 : -0.05)); // same mean, a little noise
  const c = compareMethods({ a, b, far: a.map((x) => x + 5) }, false, { seed: 0 });
  assert.ok(c.best === "a" || c.best === "b");
  assert.deepEqual(c.tied, [c.best === "a" ? "b" : "a"]);
  assert.ok(c.differenceToBest.far![0] > 4.9);
});

test("deterministic for a seed; another seed moves the interval a little", () => {
  const data = { a: normals(100, 5), b: normals(100, 6, 0.1) };
  assert.deepEqual(compareMethods(data, true, { seed: 7 }), compareMethods(data, true, { seed: 7 }));
  const other = compareMethods(data, true, { seed: 8 });
  assert.notDeepEqual(compareMethods(data, true, { seed: 7 }).interval, other.interval);
});

test("bootstrapMetrics: each metric in its direction, all from one seed, with the defaults recorded", () => {
  const perText = { a: normals(60, 1), b: normals(60, 2, 0.5) };
  const r = bootstrapMetrics(
    { up: { perText, higherIsBetter: true }, down: { perText, higherIsBetter: false } },
    4,
  );
  assert.equal(r.resamples, 2000);
  assert.equal(r.level, 0.95);
  assert.equal(r.metrics.up.best, "b");
  assert.equal(r.metrics.down.best, "a");
  // the same resampled texts for every metric: identical intervals of each method's mean
  assert.deepEqual(r.metrics.up.interval, r.metrics.down.interval);
  assert.deepEqual(r.metrics.up, compareMethods(perText, true, { seed: 4 }));
});

test("bad input is refused", () => {
  assert.throws(() => compareMethods({}, true), /no methods/);
  assert.throws(() => compareMethods({ a: [] }, true), /no texts/);
  assert.throws(() => compareMethods({ a: [1, 2], b: [1] }, true), /b has 1 values, a has 2/);
  assert.throws(() => compareMethods({ a: [1] }, true, { resamples: 0 }), /resamples/);
  assert.throws(() => compareMethods({ a: [1] }, true, { level: 1 }), /level/);
});
