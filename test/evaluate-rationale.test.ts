import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeInput, getMethod } from "../src/explain/index.js";
import { evaluateRationale, rationaleAgreement, wordScores } from "../src/evaluate/rationale.js";
import { tweetRationale } from "../src/evaluate/rationale-data.js";
import { splitDataset } from "../src/train/data.js";
import { readDatasetFile } from "../src/train/data-node.js";
import { sstSamples, tweetSamples } from "../src/cli/evaluate-rationale.js";
import { tinyModel } from "./helpers/tiny-models.js";
import { tempDir } from "./helpers/temp-dir.js";

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

test("a hand-made tweet: word pieces summed to words, AUPRC and top-k F1 against the selected span", () => {
  const r = tweetRationale("the films good!  not bad", "films good")!;
  assert.deepEqual(r.words, ["the", "films", "good!", "not", "bad"]);
  assert.deepEqual(r.mask, [false, true, true, false, false]);
  const tokens = ["[CLS]", "the", "film", "##s", "good", "!", "not", "bad", "[SEP]"];
  const R = [5, 0.1, 0.4, 0.3, 0.2, -0.5, 0.6, 0.05, 7];
  const words = wordScores(r.words, tokens, R);
  // [CLS]/[SEP] dropped; films = 0.4 + 0.3, good! = 0.2 − 0.5
  [0.1, 0.7, -0.3, 0.6, 0.05].forEach((v, i) => close(words[i]!, v, 1e-12));
  const m = rationaleAgreement(words, r.mask);
  // ranking: films (+), not (−), bad (−), the (−), good! (+): AP = ½·1/1 + ½·2/5 = 0.7
  close(m.auprc, 0.7);
  // k = 2: top-2 = films, not → precision ½, recall ½, F1 ½
  close(m.f1, 0.5);
});

test("evaluateRationale on a tiny model: the mean of per-text agreements; empty rationales skipped", () => {
  const model = tinyModel("bert", 4);
  const samples = [
    { text: "the good movie", words: ["the", "good", "movie"], mask: [false, true, false], target: 1 },
    { text: "a bad films !", words: ["a", "bad", "films", "!"], mask: [false, true, true, false], target: 0 },
    { text: "the film", words: ["the", "film"], mask: [false, false], target: 1 },
  ];
  const r = evaluateRationale(model, samples, ["gi", "random"], { seed: 5 });
  assert.equal(r.n, 2);
  assert.equal(r.skipped, 1);
  const per = samples.slice(0, 2).map((s) => {
    const { batch, tokens } = encodeInput(model, s.text);
    const R = getMethod("gi").run({
      model,
      batch,
      target: s.target,
      options: { gamma: 0, steps: 50, seed: 0 },
    }).attributions;
    return rationaleAgreement(wordScores(s.words, tokens, R), s.mask);
  });
  close(r.metrics.gi!.auprc, (per[0]!.auprc + per[1]!.auprc) / 2);
  close(r.metrics.gi!.f1, (per[0]!.f1 + per[1]!.f1) / 2);
  // bootstrap over the two texts: every resampled mean lies between the two texts' values
  const [lo, hi] = r.bootstrap.metrics.auprc.interval.gi!;
  const low = Math.min(per[0]!.auprc, per[1]!.auprc);
  const high = Math.max(per[0]!.auprc, per[1]!.auprc);
  assert.ok(lo >= low - 1e-12 && hi <= high + 1e-12, `${lo} ${hi}`);
  assert.ok(["gi", "random"].includes(r.bootstrap.metrics.f1.best));
  assert.deepEqual(evaluateRationale(model, samples, ["random"], { seed: 5 }).metrics, {
    random: r.metrics.random,
  });
  assert.throws(() => evaluateRationale(model, samples.slice(2), ["gi"]), /empty rationale/);
  assert.throws(() => evaluateRationale(model, [{ ...samples[0]!, target: 3 }], ["gi"]), /class 3/);
});

test("tweets: the positive/negative tweets of the training command's held-out split, labelled classes", () => {
  const dir = tempDir("xait-rationale-");
  const file = join(dir, "tweets.csv");
  const rows = ["textID,text,selected_text,sentiment", "x0,,,neutral"];
  const sentiments = ["positive", "negative", "neutral"];
  for (let i = 1; i <= 60; i++)
    rows.push(`x${i},"the good movie, ${i}",${i % 4 === 0 ? "" : '"good movie"'},${sentiments[i % 3]}`);
  writeFileSync(file, rows.join("\n") + "\n");
  const model = tinyModel("bert", 1);
  const set = tweetSamples(model, file, 7);
  // the split the training command makes: rows read with skipped bad rows, splitDataset(rows, 0.1, seed)
  const held = splitDataset(readDatasetFile(file, { skipBadRows: true }).examples, 0.1, 7).validation;
  const polar = held.filter((e) => e.label !== "neutral");
  assert.deepEqual(
    set.samples.map((s) => s.text),
    polar.map((e) => e.text),
  );
  set.samples.forEach((s, i) => {
    assert.equal(s.target, polar[i]!.label === "positive" ? 1 : 0);
    const n = Number(/(\d+)$/.exec(s.text)![1]);
    assert.deepEqual(s.mask, n % 4 === 0 ? [] : [false, true, true, false]);
  });
  // seed 7 holds out rows 5, 12, 16, 32, 33, 39: the polar ones are 12, 16 (no selection), 33, 39
  assert.deepEqual(
    set.samples.map((s) => s.mask.length),
    [0, 0, 4, 4],
  );
  assert.equal(tweetSamples(model, file, 7, 2).samples.length, Math.min(2, polar.length));
  assert.notDeepEqual(tweetSamples(model, file, 8).samples, set.samples);
});

test("sst-trees: binary sentences, rationale = words with the gold polarity", () => {
  const dir = tempDir("xait-rationale-");
  const file = join(dir, "dev.txt");
  writeFileSync(
    file,
    [
      "(3 (2 the) (3 (3 good) (2 movie)))",
      "(2 (2 a) (2 film))",
      "(0 (1 bad) (2 film))",
      "(1 (2 a) (2 film))",
    ].join("\n"),
  );
  const set = sstSamples(tinyModel("bert", 1), file);
  assert.deepEqual(
    set.samples.map((s) => [s.text, s.mask, s.target]),
    [
      ["the good movie", [false, true, false], 1],
      ["bad film", [true, false], 0],
      ["a film", [false, false], 0],
    ],
  );
});
