import { test } from "node:test";
import assert from "node:assert/strict";
import { XaitError } from "../src/errors.js";
import {
  accuracy,
  auprc,
  meanAbsDiff,
  pearson,
  precisionRecall,
  slope,
  topKF1,
  trapezoid,
} from "../src/evaluate/metrics.js";

const close = (actual: number, expected: number, eps = 1e-12) =>
  assert.ok(Math.abs(actual - expected) <= eps, `${actual} != ${expected}`);

test("trapezoid: default x from 0 to 1, explicit uneven x, degenerate inputs", () => {
  close(trapezoid([0, 1, 0]), 0.5);
  // A constant curve over [0, 1] has its value as area; a line y = x has area ½.
  close(trapezoid(new Array(11).fill(0.7)), 0.7);
  close(trapezoid([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]), 0.5);
  // 1.5·1 + 2.5·2 + 3.5·3 = 17
  close(trapezoid([1, 2, 3, 4], [0, 1, 3, 6]), 17);
  assert.equal(trapezoid([5]), 0);
  assert.equal(trapezoid([]), 0);
  assert.throws(() => trapezoid([1, 2], [0]), XaitError);
});

test("pearson and slope on a hand-worked case", () => {
  // x = 1,2,3; y = 2,4,7: Sxy = 5, Sxx = 2, Syy = 114/9.
  close(pearson([1, 2, 3], [2, 4, 7]), 5 / Math.sqrt((2 * 114) / 9));
  close(slope([1, 2, 3], [2, 4, 7]), 2.5);
  close(pearson([1, 2, 3], [3, 2, 1]), -1);
  close(slope([0, 1, 2, 3], [1, 3, 5, 7]), 2);
  assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])));
  assert.ok(Number.isNaN(slope([2, 2], [1, 3])));
});

test("meanAbsDiff", () => {
  close(meanAbsDiff([1, 2, 3], [1.5, 2, 1]), 2.5 / 3);
});

test("auprc is sklearn's step-wise average precision", () => {
  // Thresholds 0.9 (R=½, P=1) and 0.7 (R=1, P=⅔): AP = ½·1 + ½·⅔ = ⅚.
  close(auprc([0.9, 0.8, 0.7, 0.6], [1, 0, 1, 0]), 5 / 6);
  // Tied scores enter together: 0.5 → R=½, P=½; 0.1 → R=1, P=⅔: AP = ¼ + ⅓.
  close(auprc([0.5, 0.5, 0.1], [true, false, true]), 0.25 + 1 / 3);
  close(auprc([3, 2, 1], [1, 1, 0]), 1);
  // The positive ranked last among 4: P = ¼ at R = 1.
  close(auprc([4, 3, 2, 1], [0, 0, 0, 1]), 0.25);
  assert.ok(Number.isNaN(auprc([1, 2], [0, 0])));
});

test("topKF1 with ties broken by lower position", () => {
  const scores = [0.1, 0.9, 0.5, 0.5];
  const labels = [0, 1, 0, 1];
  // top-2 = positions 1 and 2 (tie 2 vs 3 → 2): P = ½, R = ½.
  close(topKF1(scores, labels, 2), 0.5);
  // top-3 = 1, 2, 3: P = ⅔, R = 1 → F1 = 0.8.
  close(topKF1(scores, labels, 3), 0.8);
  close(topKF1(scores, labels, 1), 2 / 3);
  assert.equal(topKF1(scores, [1, 0, 0, 0], 1), 0);
  close(topKF1(scores, labels, 99), (2 * 0.5 * 1) / 1.5);
});

test("accuracy and per-class precision / recall / F1", () => {
  const pred = [0, 1, 1, 2, 0];
  const gold = [0, 1, 0, 2, 2];
  close(accuracy(pred, gold), 0.6);
  const s = precisionRecall(pred, gold, 3);
  assert.deepEqual(s.precision, [0.5, 0.5, 1]);
  assert.deepEqual(s.recall, [0.5, 1, 0.5]);
  close(s.f1[0], 0.5);
  close(s.f1[1], 2 / 3);
  close(s.f1[2], 2 / 3);
  assert.deepEqual(s.support, [2, 1, 2]);
  close(s.macroF1, (0.5 + 4 / 3) / 3);
  assert.deepEqual(s.confusion, [
    [1, 1, 0],
    [0, 1, 0],
    [1, 0, 1],
  ]);
  // A class never predicted and never present scores 0, not NaN.
  const z = precisionRecall([0, 0], [0, 0], 2);
  assert.deepEqual(z.precision, [1, 0]);
  assert.deepEqual(z.f1, [1, 0]);
  assert.throws(() => precisionRecall([3], [0], 2), /out of range/);
});
