import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadModel } from "../src/models/folder-node.js";
import { tempDir } from "./helpers/temp-dir.js";

const dir = tempDir("xait-train-lm-cli-");
const docs = join(dir, "docs.jsonl");
writeFileSync(
  docs,
  Array.from({ length: 40 }, (_, i) =>
    JSON.stringify({ text: `the cat sat on mat ${i % 5}. `.repeat(3) }),
  ).join("\n") + "\n",
);
const labelled = join(dir, "labelled.tsv");
writeFileSync(
  labelled,
  [
    "sentence\tlabel",
    ...Array.from({ length: 40 }, (_, i) => `the cat was ${i % 2 ? "good" : "bad"}\t${i % 2}`),
  ].join("\n") + "\n",
);
const emptyRows = join(dir, "empty.jsonl");
writeFileSync(emptyRows, '{"text": ""}\n{"text": "   "}\n');
const blank = join(dir, "blank.txt");
writeFileSync(blank, "  \n\n");

const xait = (args: string[]) =>
  spawnSync(process.execPath, ["bin/xait.js", ...args], {
    encoding: "utf8",
    env: { ...process.env, XAIT_BACKEND: "js" },
  });
const TINY = ["--layers", "1", "--hidden", "16", "--heads", "2", "--max-length", "16", "--vocab-size", "300"];
const LM = [
  "train",
  "--task",
  "causal-lm",
  "--validation-fraction",
  "0.2",
  "--epochs",
  "1",
  "--batch-size",
  "8",
];

/** A one-line error (the last line of stderr, no stack trace) and the exit code. */
function fails(r: ReturnType<typeof xait>, code: number, pattern: RegExp): void {
  assert.equal(r.status, code, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assert.ok(!/^\s+at /m.test(r.stderr), r.stderr);
  assert.equal(lines.filter((l) => l.startsWith("error:")).length, 1, r.stderr);
  assert.match(lines[lines.length - 1]!, new RegExp(`^error: .*${pattern.source}`));
}

const lm = join(dir, "lm");
const cls = join(dir, "cls");

test("xait train --task causal-lm writes an LM folder; --task classify --init turns it into a classifier", () => {
  const a = xait([...LM, ...TINY, "--train", docs, "--out", lm]);
  assert.equal(a.status, 0, a.stderr);
  assert.match(a.stderr, /epoch 1: loss [\d.]+, validation loss [\d.]+, perplexity [\d.]+/);
  const record = JSON.parse(readFileSync(join(lm, "training.json"), "utf8"));
  assert.equal(record.task, "causal-lm");
  assert.equal(record.status, "finished");
  assert.ok(
    Math.abs(record.epochs[0].validationPerplexity - Math.exp(record.epochs[0].validationLoss)) < 1e-9,
  );
  assert.equal(
    record.data.trainWindows * 16 + record.data.validationWindows * 16 + record.data.droppedTokens,
    record.data.trainTokens + record.data.validationTokens,
  );
  const model = loadModel(lm);
  assert.equal(model.config.task, "causal-lm");
  assert.equal(model.config.maxPositions, 16);

  const b = xait([
    "train",
    "--init",
    lm,
    "--train",
    labelled,
    "--validation-fraction",
    "0.25",
    "--epochs",
    "1",
    "--out",
    cls,
  ]);
  assert.equal(b.status, 0, b.stderr);
  const c = loadModel(cls);
  assert.equal(c.config.task, "classification");
  assert.equal(
    JSON.parse(readFileSync(join(cls, "config.json"), "utf8")).architectures[0],
    "GPT2ForSequenceClassification",
  );
  assert.deepEqual(c.config.labels.length, 2);
});

test("xait train --task causal-lm: bad input gets one-line errors", () => {
  fails(
    xait([...LM, ...TINY, "--train", emptyRows, "--skip-bad-rows", "--out", join(dir, "x")]),
    1,
    /no usable text rows/,
  );
  fails(xait([...LM, ...TINY, "--train", blank, "--out", join(dir, "x")]), 1, /no usable text rows/);
  fails(
    xait([...LM, "--vocab-size", "200", "--train", docs, "--out", join(dir, "x")]),
    2,
    /--vocab-size 200 is too small: .*at least 257/,
  );
  fails(
    xait([...LM, "--init", lm, "--max-length", "64", "--train", docs, "--out", join(dir, "x")]),
    2,
    /--max-length 64 is longer than the 16 positions/,
  );
  fails(
    xait([...LM, "--init", cls, "--train", docs, "--out", join(dir, "x")]),
    2,
    /is a classifier, not a causal language model/,
  );
  fails(
    xait([...LM, "--arch", "bert", "--train", docs, "--out", join(dir, "x")]),
    2,
    /trains --arch gpt2 or llama/,
  );
  fails(
    xait([...LM, "--label-column", "y", "--train", docs, "--out", join(dir, "x")]),
    2,
    /applies to --task classify only/,
  );
  const notModel = join(dir, "not-a-model");
  mkdirSync(notModel, { recursive: true });
  fails(
    xait([
      "train",
      "--init",
      notModel,
      "--train",
      labelled,
      "--validation-fraction",
      "0.2",
      "--out",
      join(dir, "x"),
    ]),
    1,
    /has no config.json/,
  );
});

test("xait train --task causal-lm stops on SIGINT after the current step, keeping the last complete checkpoint", async () => {
  const out = join(dir, "stopped");
  const child = spawn(
    process.execPath,
    ["bin/xait.js", ...LM, ...TINY, "--train", docs, "--epochs", "100000", "--out", out],
    { env: { ...process.env, XAIT_BACKEND: "js" } },
  );
  const guard = setTimeout(() => child.kill("SIGKILL"), 60_000);
  let stderr = "";
  let sent = false;
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderr += chunk;
    if (!sent && stderr.includes("best, saved")) {
      sent = true;
      child.kill("SIGINT");
    }
  });
  const status = await new Promise<number | null>((done) => child.on("close", (c) => done(c)));
  clearTimeout(guard);
  assert.equal(status, 130, stderr);
  const m = /interrupted: the last good checkpoint \(epoch (\d+)\) is in (.+)\n/.exec(stderr);
  assert.ok(m, stderr);
  const record = JSON.parse(readFileSync(join(out, "training.json"), "utf8"));
  assert.equal(record.status, "interrupted");
  assert.equal(record.bestEpoch, Number(m[1]));
  assert.ok(record.bestValidationPerplexity > 1);
  assert.equal(loadModel(out).config.task, "causal-lm");
});
