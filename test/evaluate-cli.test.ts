import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { saveModel } from "../src/models/folder-node.js";
import { tinyModel } from "./helpers/tiny-models.js";
import { tempDir } from "./helpers/temp-dir.js";
import { formatSeconds } from "../src/cli/evaluate-common.js";

const dir = tempDir("xait-evaluate-");
const model = join(dir, "model");
saveModel(tinyModel("xai-transformer", 3), model);
const data = join(dir, "data.tsv");
writeFileSync(data, "sentence\tlabel\ngood movie\t1\nthe bad film !\t0\nnot very good\t0\na film\t1\n");
const tweets = join(dir, "tweets.csv");
writeFileSync(
  tweets,
  ["textID,text,selected_text,sentiment"]
    .concat(
      Array.from({ length: 30 }, (_, i) => `t${i},"good movie ${i}",good,${i % 2 ? "positive" : "negative"}`),
    )
    .join("\n") + "\n",
);

const MAIN = new URL("../src/cli/main.js", import.meta.url).href;
const RUNNER = `import { main } from ${JSON.stringify(MAIN)}; process.exitCode = await main(process.argv.slice(1));`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The CLI's main() in a child process (as bin/xait.js runs it, from this build), stdout and stderr
 * captured; the reference backend keeps start-up short. Runs start at once and go in parallel.
 */
function xait(...args: string[]): Promise<Run> {
  return new Promise((done, fail) => {
    execFile(
      process.execPath,
      ["--input-type=module", "-e", RUNNER, ...args],
      { env: { ...process.env, XAIT_BACKEND: "js", XAIT_QUIET: "1" } },
      (error, stdout, stderr) => {
        const code = error ? error.code : 0;
        if (typeof code !== "number") fail(error);
        else done({ code, stdout, stderr });
      },
    );
  });
}

const M = ["--model", model];
const report = join(dir, "report");
const runs = {
  json: xait(
    "evaluate",
    "perturbation",
    ...M,
    "--data",
    data,
    "--methods",
    "lrp,random",
    "--limit",
    "3",
    "--seed",
    "5",
    "--json",
  ),
  out: xait("evaluate", "perturbation", ...M, "--data", data, "--methods", "lrp,gi", "--out", report),
  conservation: xait("evaluate", "conservation", ...M, "--data", data, "--json", "--out", report),
  accuracy: xait("evaluate", "accuracy", ...M, "--data", data, "--json"),
  rationale: xait(
    "evaluate",
    "rationale",
    ...M,
    "--data",
    "tweets",
    "--file",
    tweets,
    "--methods",
    "gi,random",
    "--json",
  ),
};
const BAD: [string[], number, RegExp][] = [
  [
    ["evaluate", "perturbation", ...M, "--data", join(dir, "missing.tsv")],
    1,
    /cannot read dataset .*missing\.tsv: no such file/,
  ],
  [["evaluate", "perturbation", ...M, "--data", data, "--methods", "lrp,nope"], 2, /unknown method 'nope'/],
  [["evaluate", "perturbation", ...M, "--data", data, "--limit", "0"], 2, /--limit must be at least 1/],
  [["evaluate", "conservation", ...M], 2, /--data FILE is required/],
  [["evaluate", "rationale", ...M, "--data", "imdb"], 2, /--data must be tweets or sst-trees/],
  [["evaluate", "frobnicate"], 2, /unknown evaluation 'frobnicate'/],
];
const bad = BAD.map(([args]) => xait(...args));

test("evaluate perturbation --json prints exactly one object of the documented shape", async () => {
  const r = await runs.json;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split("\n").length, 1);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(j), [
    "model",
    "data",
    "n",
    "metrics",
    "bootstrap",
    "curves",
    "seed",
    "timing",
  ]);
  assert.deepEqual(Object.keys(j.bootstrap.metrics), ["AUAC", "AUPC", "AU-MSE"]);
  for (const c of Object.values(j.bootstrap.metrics) as {
    interval: Record<string, number[]>;
    best: string;
  }[]) {
    assert.deepEqual(Object.keys(c.interval), ["lrp", "random"]);
    assert.ok(["lrp", "random"].includes(c.best));
  }
  assert.equal(j.model, model);
  assert.equal(j.data, data);
  assert.equal(j.n, 3);
  assert.equal(j.seed, 5);
  assert.deepEqual(Object.keys(j.metrics), ["lrp", "random"]);
  for (const id of ["lrp", "random"]) {
    assert.deepEqual(Object.keys(j.metrics[id]), ["AUAC", "AUPC", "AU-MSE"]);
    assert.deepEqual(Object.keys(j.curves[id]), ["generate", "pruning", "mse"]);
    for (const c of Object.values(j.curves[id]) as number[][]) assert.equal(c.length, 11);
    assert.deepEqual(Object.keys(j.timing[id]), ["total_s", "per_sample_ms"]);
  }
  assert.match(r.stderr, /run time: .* for 3 samples/);
});

test("evaluate perturbation --out: a table on stdout; results.json, results.md and the two-panel figure", async () => {
  const r = await runs.out;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /LRP \(AH\+LN\)\s+lrp\s+[\d.]+\s+[\d.]+\s+[\d.]+/);
  assert.match(r.stdout, /run time:/);
  assert.equal(JSON.parse(readFileSync(join(report, "results.json"), "utf8")).n, 4);
  const md = readFileSync(join(report, "results.md"), "utf8");
  assert.match(md, /\| LRP \(AH\+LN\) \| lrp \| [\d.]+ \([\d.]+–[\d.]+\) \|/);
  assert.match(md, /95 % percentile bootstrap intervals over the samples \(2000 resamples, seed \d+\)/);
  assert.match(
    md,
    /^- AU-MSE ↓: best (LRP \(AH\+LN\)|Random); (not separable from it: |separable from every)/m,
  );
  assert.match(r.stdout, /paired bootstrap over the samples, 95 %:\n {2}AUAC ↑: best (lrp|random);/);
  assert.match(md, /command: `xait evaluate perturbation --model /);
  assert.match(md, /machine: .*cores, Node v/);
  const svg = readFileSync(join(report, "perturbation.svg"), "utf8");
  assert.equal(svg.match(/<svg\b/g)!.length, 3); // the outer one and two panels
  assert.ok(svg.indexOf("Activation") < svg.indexOf("Pruning"));
});

test("evaluate conservation --json: summary per method and every point; the scatter has the diagonal", async () => {
  const r = await runs.conservation;
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(j.summary), ["gi", "lrp-ah", "lrp", "attnlrp"]);
  assert.deepEqual(Object.keys(j.summary.lrp), ["pearson", "mean_abs_diff", "slope", "n", "head", "encoder"]);
  assert.equal(j.points.length, 4);
  assert.deepEqual(Object.keys(j.points[0].sums), ["gi", "lrp-ah", "lrp", "attnlrp"]);
  assert.deepEqual(Object.keys(j.timing), ["gi", "lrp-ah", "lrp", "attnlrp"]);
  assert.ok(j.timing.lrp.total_s >= 0 && j.timing.lrp.per_sample_ms >= 0);
  assert.match(r.stderr, /explanation time: gi [\d.]+ ms \([\d.]+ ms\/sentence\), lrp-ah/);
  assert.match(readFileSync(join(report, "conservation.svg"), "utf8"), /class="diagonal"/);
  assert.ok(existsSync(join(report, "conservation.md")));
});

test("evaluate accuracy --json: accuracy and per-class scores by label name", async () => {
  const r = await runs.accuracy;
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.n, 4);
  assert.deepEqual(Object.keys(j.classes), ["NEGATIVE", "POSITIVE"]);
  assert.equal(j.classes.NEGATIVE.support + j.classes.POSITIVE.support, 4);
  assert.ok(j.accuracy >= 0 && j.accuracy <= 1);
});

test("evaluate rationale --data tweets --file FILE --json", async () => {
  const r = await runs.rationale;
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.n + j.skipped, 3); // the held-out 10 % of 30 tweets
  assert.deepEqual(Object.keys(j.metrics.gi), ["auprc", "f1"]);
  assert.deepEqual(Object.keys(j.bootstrap.metrics), ["auprc", "f1"]);
  assert.deepEqual(Object.keys(j.timing), Object.keys(j.metrics));
  assert.match(r.stderr, /explanation time: \S+ [\d.]+ m?s \([\d.]+ ms\/text\)/);
});

test("bad input: one-line errors, exit 2 for usage errors and 1 for an unreadable file", async () => {
  const results = await Promise.all(bad);
  for (const [i, [args, code, message]] of BAD.entries()) {
    const r = results[i]!;
    assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /^error: /);
    assert.match(r.stderr, message);
  }
});

test("formatSeconds rounds before it splits a duration into units", () => {
  const cases: [number, string][] = [
    [0.0124, "12 ms"],
    [0.9996, "1.0 s"],
    [12.34, "12.3 s"],
    [59.96, "1 min 0 s"],
    [659.6, "11 min 0 s"],
    [3031.2, "50 min 31 s"],
    [3599.6, "1 h 0 min"],
    [3929, "1 h 5 min"],
  ];
  for (const [s, want] of cases) assert.equal(formatSeconds(s), want, `${s} s`);
});
