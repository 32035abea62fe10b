/**
 * `xait bench`'s rows, measured through `benchBackend` on tiny models (the CLI's BERT-base and GPT-2
 * small rows take minutes on the js backend): one row per sequence length and model plus the batch
 * row, on each backend; the ratios and rates follow from the times; every row has its own peak memory.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { spawnSync } from "node:child_process";
import {
  BATCH_SEQ,
  benchBackend,
  benchInChild,
  parseBackends,
  rowSpecs,
  type BenchPlan,
} from "../src/cli/bench.js";
import { disposeBackend } from "../src/tensor/backends.js";
import { loadOrt } from "../src/onnx/native-node.js";
import { tinyModel } from "./helpers/tiny-models.js";
import { tinyDecoder } from "./helpers/tiny-decoders.js";

after(() => disposeBackend());

const plan: BenchPlan = {
  seqs: [6, 12],
  batch: 3,
  batchSeq: 8,
  reps: 1,
  threads: 2,
  gemm: false,
  bert: () => tinyModel("bert"),
  gpt2: () => tinyDecoder("gpt2"),
};

test("the rows of a plan: BERT per length, the batch row, GPT-2 per length", () => {
  const specs = rowSpecs(plan).map((r) => [r.name, r.batch, r.seq]);
  assert.deepEqual(specs, [
    ["bert-base", 1, 6],
    ["bert-base", 1, 12],
    ["bert-base", 3, 8],
    ["gpt2-small", 1, 6],
    ["gpt2-small", 1, 12],
  ]);
  assert.equal(rowSpecs({ ...plan, batch: 0 }).length, 4);
  assert.equal(BATCH_SEQ, 32);
});

let nativeMissing: string | false = false;
try {
  loadOrt();
} catch (e) {
  nativeMissing = `native backend not tested: ${e instanceof Error ? e.message : String(e)}`;
}

for (const backend of ["js", "wasm", "native"] as const)
  test(
    `benchBackend measures every row on ${backend}`,
    { skip: backend === "native" && nativeMissing },
    async () => {
      const seen: string[] = [];
      const r = await benchBackend(backend, plan, {
        start: (b) => seen.push(`start ${b.backend}`),
        row: (_, row) => seen.push(`${row.model} ${row.batch}×${row.seq}`),
      });
      assert.equal(r.backend, backend);
      assert.deepEqual(seen, [
        `start ${backend}`,
        "bert-base 1×6",
        "bert-base 1×12",
        "bert-base 3×8",
        "gpt2-small 1×6",
        "gpt2-small 1×12",
      ]);
      assert.equal(r.rows.length, 5);
      for (const row of r.rows) {
        assert.ok(row.forward_ms > 0 && row.lrp_ms > 0, JSON.stringify(row));
        assert.ok(Math.abs(row.lrp_over_forward - row.lrp_ms / row.forward_ms) < 1e-12);
        assert.ok(Math.abs(row.explanations_per_s - (1000 * row.batch) / row.lrp_ms) < 1e-9);
        assert.ok(row.peak_rss_mb > 10 && row.peak_rss_mb < 1e6, `peak ${row.peak_rss_mb}`);
        if (process.platform === "linux") assert.equal(row.peak_rss_scope, "row");
      }
    },
  );

test("--backend: a list, else XAIT_BACKEND, else native and wasm (native when it loads)", () => {
  assert.deepEqual(parseBackends("js, wasm"), ["js", "wasm"]);
  const saved = process.env["XAIT_BACKEND"];
  try {
    delete process.env["XAIT_BACKEND"];
    assert.deepEqual(
      parseBackends(undefined, () => false),
      ["wasm"],
    );
    assert.deepEqual(
      parseBackends(undefined, () => true),
      ["native", "wasm"],
    );
    process.env["XAIT_BACKEND"] = "native";
    assert.deepEqual(parseBackends(undefined), ["native"]);
    process.env["XAIT_BACKEND"] = "js";
    assert.deepEqual(parseBackends(undefined), ["js"]);
  } finally {
    if (saved === undefined) delete process.env["XAIT_BACKEND"];
    else process.env["XAIT_BACKEND"] = saved;
  }
  assert.throws(() => parseBackends("wasm,gpu"), /--backend takes native, wasm, js, got 'gpu'/);
});

test("xait bench --help names --batch and --backend", () => {
  const r = spawnSync(process.execPath, ["bin/xait.js", "bench", "--help"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /--batch N\s+sentences of 32 tokens explained as one batch/);
  assert.match(r.stdout, /--backend LIST/);
});

test("with several backends each is measured in a child process: its rows stream back in order", async () => {
  // the CLI's models (BERT-base and GPT-2 small, random weights) at a few tokens
  const cli: BenchPlan = { seqs: [4], batch: 1, batchSeq: BATCH_SEQ, reps: 1, threads: 1 };
  const seen: string[] = [];
  const r = await benchInChild("wasm", cli, {
    start: (b) => seen.push(`start ${b.backend}`),
    row: (_, row) => seen.push(`${row.model} ${row.batch}×${row.seq}`),
  });
  assert.deepEqual(seen, ["start wasm", "bert-base 1×4", "bert-base 1×32", "gpt2-small 1×4"]);
  assert.equal(r.backend, "wasm");
  assert.equal(r.threads, 1);
  assert.equal(r.rows.length, 3);
  for (const row of r.rows) assert.ok(row.lrp_ms > 0 && row.peak_rss_mb > 0, JSON.stringify(row));
  // a child that fails names its reason in one line
  await assert.rejects(
    benchInChild("wasm", { ...cli, reps: 0 }),
    /bench of the wasm backend failed: .*--reps/,
  );
});
