import { test } from "node:test";
import assert from "node:assert/strict";
import { XaitError } from "../src/errors.js";
import {
  FRACTIONS,
  aggregate,
  generateInputs,
  perturbationCurves,
  pruningInputs,
  tokensAt,
  type PerturbationCurves,
  type PerturbationModel,
} from "../src/evaluate/perturbation.js";

const close = (actual: number, expected: number, eps = 1e-12) =>
  assert.ok(Math.abs(actual - expected) <= eps, `${actual} != ${expected}`);
const closeAll = (actual: number[], expected: number[], eps = 1e-12) => {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => close(a, expected[i], eps));
};
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

const CLS = 101;
const SEP = 102;
const UNK = 100;
const PAD = 0;

/**
 * logit_0 = 0, logit_1 = Σ_positions w[id]: a known linear function of which tokens are present
 * ([UNK], [PAD], [CLS], [SEP] weigh 0), so every curve can be worked out by hand.
 */
function linearModel(weights: Record<number, number>): PerturbationModel & { calls: number[][][] } {
  const calls: number[][][] = [];
  return {
    unkId: UNK,
    padId: PAD,
    calls,
    predictBatch(inputs) {
      calls.push(inputs);
      return inputs.map((ids) => [0, ids.reduce((s, id) => s + (weights[id] ?? 0), 0)]);
    },
  };
}

test("FRACTIONS are k/10 exactly, not accumulated sums", () => {
  assert.equal(FRACTIONS.length, 11);
  assert.equal(FRACTIONS[3], 0.3);
  assert.equal(FRACTIONS[10], 1);
  assert.notEqual(0.1 + 0.1 + 0.1, 0.3); // why: accumulation drifts
});

test("tokensAt = ⌈k·N/10⌉ in integer arithmetic", () => {
  const row = (N: number) => FRACTIONS.map((_, k) => tokensAt(k, N));
  assert.deepEqual(row(10), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual(row(20), [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
  // ⌈0.7⌉=1, ⌈1.4⌉=2, ⌈2.1⌉=3, ⌈2.8⌉=3, ⌈3.5⌉=4, ⌈4.2⌉=5, ⌈4.9⌉=5, ⌈5.6⌉=6, ⌈6.3⌉=7, 7
  assert.deepEqual(row(7), [0, 1, 2, 3, 3, 4, 5, 5, 6, 7, 7]);
  assert.deepEqual(row(0), new Array(11).fill(0));
  // An accumulated 0.1+0.1+0.1 would give ⌈3.0000000000000004⌉ = 4 tokens of 10.
  assert.equal(Math.ceil((0.1 + 0.1 + 0.1) * 10), 4);
  assert.equal(tokensAt(3, 10), 3);
  assert.throws(() => tokensAt(11, 5), XaitError);
  assert.throws(() => tokensAt(0.5, 5), XaitError);
});

// [CLS] a b c [SEP] [PAD] [PAD], N = 5; pads carry a large relevance that must be ignored.
const ids = [CLS, 5, 6, 7, SEP, PAD, PAD];
const relevance = [0, 2, -1, 0.5, 0.1, 9, 9];
const U = UNK;
const P = PAD;

test("generateInputs: start all-[UNK], pads kept, highest signed relevance restored first", () => {
  const inputs = generateInputs(ids, relevance, UNK, PAD);
  assert.equal(inputs.length, 11);
  // n = ⌈k·5/10⌉ = 0,1,1,2,2,3,3,4,4,5,5; order: pos 1 (2), 3 (0.5), 4 (0.1), 0 (0), 2 (−1).
  assert.deepEqual(inputs[0], [U, U, U, U, U, P, P]);
  assert.deepEqual(inputs[1], [U, 5, U, U, U, P, P]);
  assert.deepEqual(inputs[3], [U, 5, U, 7, U, P, P]);
  assert.deepEqual(inputs[5], [U, 5, U, 7, SEP, P, P]);
  assert.deepEqual(inputs[7], [CLS, 5, U, 7, SEP, P, P]);
  assert.deepEqual(inputs[10], ids);
});

test("pruningInputs: smallest |relevance| replaced by [UNK] first, pads untouched", () => {
  const inputs = pruningInputs(ids, relevance, UNK, PAD);
  // removal order: pos 0 (0), 4 (0.1), 3 (0.5), 2 (|−1|), 1 (2).
  assert.deepEqual(inputs[0], ids);
  assert.deepEqual(inputs[1], [U, 5, 6, 7, SEP, P, P]);
  assert.deepEqual(inputs[3], [U, 5, 6, 7, U, P, P]);
  assert.deepEqual(inputs[5], [U, 5, 6, U, U, P, P]);
  assert.deepEqual(inputs[7], [U, 5, U, U, U, P, P]);
  assert.deepEqual(inputs[10], [U, U, U, U, U, P, P]);
});

test("ties go to the lower position first in both protocols", () => {
  const flat = [1, 1, 1, 1];
  const g = generateInputs([11, 12, 13, 14], flat, UNK, PAD);
  // N = 4: n = 0,1,1,2,2,2,3,3,4,4,4
  assert.deepEqual(g[1], [11, U, U, U]);
  assert.deepEqual(g[3], [11, 12, U, U]);
  assert.deepEqual(g[6], [11, 12, 13, U]);
  const p = pruningInputs([11, 12, 13, 14], [-1, 1, -1, 1], UNK, PAD);
  assert.deepEqual(p[1], [U, 12, 13, 14]);
  assert.deepEqual(p[3], [U, U, 13, 14]);
  assert.deepEqual(p[6], [U, U, U, 14]);
});

test("perturbationCurves on a linear model match the hand-worked curves, in one batch", () => {
  const model = linearModel({ 5: 1, 6: -2, 7: 0.5 });
  const curves = perturbationCurves(model, ids, relevance, 1);
  assert.equal(model.calls.length, 1);
  assert.equal(model.calls[0].length, 22);
  // generate: restored 5, then 7, then SEP, CLS (weight 0), then 6:
  // logit_1 by n = 0 → 0, 1 → 1, 2 → 1.5, 3 → 1.5, 4 → 1.5, 5 → −0.5
  const generateLogit = [0, 1, 1, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, -0.5, -0.5];
  closeAll(curves.generate, generateLogit.map(sigmoid));
  // pruning: full logit −0.5; removing CLS, SEP keeps it; removing 7 → −1; 6 → 1; 5 → 0.
  const pruningLogit = [-0.5, -0.5, -0.5, -0.5, -0.5, -1, -1, 1, 1, 0, 0];
  closeAll(curves.pruning, pruningLogit.map(sigmoid));
  // Σ_c (y0_c − y_c)² with y0 = (0, −0.5): only class 1 moves.
  closeAll(curves.mse, [0, 0, 0, 0, 0, 0.25, 0.25, 2.25, 2.25, 0.25, 0.25]);
  // The true class 0 reads the complementary probability.
  const zero = perturbationCurves(linearModel({ 5: 1, 6: -2, 7: 0.5 }), ids, relevance, 0);
  closeAll(
    zero.generate,
    generateLogit.map((z) => 1 - sigmoid(z)),
    1e-12,
  );
  closeAll(zero.mse, curves.mse);
});

test("perturbationCurves rejects a bad target or a model answering the wrong number of rows", () => {
  const model = linearModel({});
  assert.throws(() => perturbationCurves(model, ids, relevance, 2), /target class 2/);
  const short: PerturbationModel = { unkId: UNK, padId: PAD, predictBatch: () => [[0, 1]] };
  assert.throws(() => perturbationCurves(short, ids, relevance, 1), XaitError);
  assert.throws(() => generateInputs([1, 2], [1], UNK, PAD), /2 tokens but 1 relevance/);
});

test("aggregate: mean curves first, then trapezoid areas over the fractions", () => {
  const ones = new Array(11).fill(1);
  const line = FRACTIONS.slice();
  const a: PerturbationCurves = { generate: ones, pruning: line, mse: line.map((x) => 4 * x) };
  const b: PerturbationCurves = { generate: line, pruning: line, mse: new Array(11).fill(0) };
  const s = aggregate([a, b]);
  assert.equal(s.samples, 2);
  closeAll(
    s.curves.generate,
    FRACTIONS.map((x) => (1 + x) / 2),
  );
  close(s.AUAC, 0.75);
  close(s.AUPC, 0.5);
  close(s["AU-MSE"], 1);
  assert.throws(() => aggregate([]), XaitError);
});

test("aggregate of the hand-worked model: AUAC is the trapezoid of its generate curve", () => {
  const c = perturbationCurves(linearModel({ 5: 1, 6: -2, 7: 0.5 }), ids, relevance, 1);
  const s = aggregate([c]);
  const g = c.generate;
  const inner = g.slice(1, 10).reduce((x, y) => x + y, 0);
  close(s.AUAC, 0.1 * (inner + (g[0] + g[10]) / 2));
  // AU-MSE = 0.1·(0.25+0.25+2.25+2.25+0.25 + 0.25/2)
  close(s["AU-MSE"], 0.1 * (5.25 + 0.125));
});
