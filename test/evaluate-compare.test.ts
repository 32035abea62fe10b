/** Two runs compared sample by sample (paired bootstrap of B − A). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { compareRuns } from "../src/evaluate/compare.js";
import type { ParsedJournal } from "../src/evaluate/journal.js";

const FLAT = (v: number) => Array.from({ length: 11 }, () => v);

/** A conservation journal whose sample i has |ΣR − f| = gaps[i]. */
function conservation(
  gaps: number[],
  extra: Partial<ParsedJournal["header"]["identity"]> = {},
): ParsedJournal {
  return {
    header: {
      journal: 1,
      identity: {
        evaluation: "conservation",
        xait: "0",
        model: "m",
        data: "d",
        methods: ["lrp"],
        options: {},
        seed: 0,
        samples: gaps.length,
        ...extra,
      },
      shard: null,
      context: {},
    },
    records: gaps.map((g, i) => ({
      i,
      wall_ms: 1,
      result: { point: { index: i, target: 0, logit: 1, sums: { lrp: 1 + g } }, ms: { lrp: 1 } },
    })),
    completeLength: 0,
    torn: false,
  };
}

test("compare: the mean per-sample difference, its interval, and which run is better", () => {
  const a = conservation([0.5, 0.7, 0.6, 0.9, 0.4, 0.8]);
  const b = conservation([0.1, 0.0, 0.2, 0.1, 0.05, 0.15]);
  const c = compareRuns(a, b, ["A", "B"]);
  const row = c.rows[0]!;
  assert.equal(row.method, "lrp");
  assert.ok(Math.abs(row.a - 0.65) < 1e-12 && Math.abs(row.b - 0.1) < 1e-12);
  assert.ok(Math.abs(row.difference - -0.55) < 1e-12);
  assert.ok(row.interval[0] <= row.difference && row.difference <= row.interval[1]);
  assert.ok(row.interval[1] < 0);
  assert.equal(row.better, "B", "lower |ΣR − f| is better");
  const same = compareRuns(a, a, ["A", "A"]).rows[0]!;
  assert.deepEqual(same.interval, [0, 0]);
  assert.equal(same.better, "neither");
});

test("compare: perturbation areas per sample; runs on other data, incomplete runs and accuracy runs are refused", () => {
  const run = (auac: number[]): ParsedJournal => ({
    ...conservation(auac.map(() => 0)),
    header: {
      ...conservation([0]).header,
      identity: { ...conservation([0]).header.identity, evaluation: "perturbation", samples: auac.length },
    },
    records: auac.map((v, i) => ({
      i,
      wall_ms: 1,
      result: { curves: { lrp: { generate: FLAT(v), pruning: FLAT(0.5), mse: FLAT(1) } } },
    })),
  });
  const c = compareRuns(run([0.6, 0.7]), run([0.8, 0.9]), ["A", "B"]);
  const auac = c.rows.find((r) => r.metric === "AUAC")!;
  assert.ok(Math.abs(auac.difference - 0.2) < 1e-12, "a flat curve's area is its value");
  assert.equal(c.rows.find((r) => r.metric === "AU-MSE")!.better, "neither");
  assert.throws(
    () => compareRuns(conservation([1, 2]), conservation([1, 2], { data: "other" }), ["A", "B"]),
    /differ in their data/,
  );
  const partial = conservation([1, 2]);
  partial.records.pop();
  assert.throws(() => compareRuns(partial, conservation([1, 2]), ["A", "B"]), /must be complete/);
  assert.throws(
    () => compareRuns(conservation([1]), run([1]), ["A", "B"]),
    /A is a conservation run, B a perturbation run/,
  );
});
