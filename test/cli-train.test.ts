import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadModel } from "../src/models/folder-node.js";
import { tempDir } from "./helpers/temp-dir.js";

const dir = tempDir("xait-train-cli-");
const words = ["the", "movie", "film", "plot", "was", "very", "actors"];
const rows = Array.from({ length: 48 }, (_, i) => {
  const text = `${words[i % 7]} ${words[(i * 3) % 7]} ${i % 2 ? "good" : "dull"} ${words[(i * 5) % 7]}`;
  return `${text}\t${i % 2}`;
});
const train = join(dir, "train.tsv");
writeFileSync(train, ["sentence\tlabel", ...rows.slice(0, 40)].join("\n") + "\n");
const valid = join(dir, "valid.tsv");
writeFileSync(valid, ["sentence\tlabel", ...rows.slice(40)].join("\n") + "\n");

const xait = (args: string[]) =>
  spawnSync(process.execPath, ["bin/xait.js", ...args], {
    encoding: "utf8",
    env: { ...process.env, XAIT_BACKEND: "js" },
  });

const TINY = [
  "--layers",
  "1",
  "--hidden",
  "16",
  "--heads",
  "2",
  "--intermediate",
  "32",
  "--max-length",
  "16",
];
const DATA = ["--train", train, "--validation", valid, "--min-frequency", "1"];

test("xait train writes the model folder; --init continues from it with its vocabulary and labels", () => {
  const first = join(dir, "first");
  const a = xait(["train", ...TINY, ...DATA, "--epochs", "2", "--lr", "3e-3", "--out", first]);
  assert.equal(a.status, 0, a.stderr);
  for (const f of ["config.json", "model.safetensors", "tokenizer.json", "training.json"])
    assert.ok(existsSync(join(first, f)), f);

  const second = join(dir, "second");
  const b = xait([
    "train",
    "--init",
    first,
    "--train",
    train,
    "--validation",
    valid,
    "--epochs",
    "1",
    "--out",
    second,
  ]);
  assert.equal(b.status, 0, b.stderr);
  const m1 = loadModel(first);
  const m2 = loadModel(second);
  assert.deepEqual(m2.config.labels, m1.config.labels);
  assert.equal(m2.config.hiddenSize, 16);
  assert.equal(
    readFileSync(join(second, "tokenizer.json"), "utf8"),
    readFileSync(join(first, "tokenizer.json"), "utf8"),
  );
  const record = JSON.parse(readFileSync(join(second, "training.json"), "utf8"));
  assert.equal(record.options.init.dir, first);
  assert.match(record.options.init.training.command, /^xait train --layers 1/);
  // training went on from the first model's weights, not from a fresh initialisation
  const w1 = m1.wordEmbeddings.data;
  const w2 = m2.wordEmbeddings.data;
  let diff = 0;
  for (let i = 0; i < w1.length; i++) diff = Math.max(diff, Math.abs(w1[i]! - w2[i]!));
  assert.ok(diff > 0 && diff < 0.05, `largest change of a word embedding ${diff}`);
});

test("xait train --init refuses architecture and vocabulary flags, and a missing folder", () => {
  for (const flag of [["--hidden", "32"], ["--strip-html"]]) {
    const r = xait([
      "train",
      "--init",
      join(dir, "first"),
      ...flag,
      "--train",
      train,
      "--validation",
      valid,
      "--out",
      join(dir, "x"),
    ]);
    assert.equal(r.status, 2);
    assert.equal(
      r.stderr,
      `error: --init DIR takes the architecture and vocabulary from DIR; drop ${flag[0]}\n`,
    );
  }
  const m = xait([
    "train",
    "--init",
    join(dir, "nope"),
    "--train",
    train,
    "--validation",
    valid,
    "--out",
    join(dir, "y"),
  ]);
  assert.equal(m.status, 1);
  assert.match(m.stderr, /model folder .*nope does not exist/);
  assert.equal(m.stderr.trim().split("\n").length, 1);
});

test("xait train --pretrain-std scales the PPMI-SVD word vectors, and needs --pretrain-text", () => {
  const out = join(dir, "pretrained");
  // lr 0: the saved weights are the initial ones
  const r = xait([
    "train",
    ...TINY,
    ...DATA,
    "--pretrain-text",
    train,
    "--pretrain-std",
    "0.5",
    "--lr",
    "0",
    "--epochs",
    "1",
    "--out",
    out,
  ]);
  assert.equal(r.status, 0, r.stderr);
  const m = loadModel(out);
  const H = m.config.hiddenSize;
  const table = m.wordEmbeddings.data;
  const rowStd = (id: number) => {
    let ss = 0;
    for (let j = 0; j < H; j++) ss += table[id * H + j]! ** 2;
    return Math.sqrt(ss / H);
  };
  // words of the text get vectors at the requested scale (their mean square is 0.5²); unseen
  // tokens such as [UNK] keep the initialiser's 0.02
  const seen = ["movie", "good", "dull", "the"].map((w) => m.tokenizer!.encode(w).ids[1]!);
  const meanSquare = seen.reduce((s, id) => s + rowStd(id) ** 2, 0) / seen.length;
  assert.ok(meanSquare > 0.05 && meanSquare < 1, `mean square ${meanSquare}`);
  assert.ok(rowStd(m.tokenizer!.special.unk!) < 0.05);
  const record = JSON.parse(readFileSync(join(out, "training.json"), "utf8"));
  assert.equal(record.options.pretrainStd, 0.5);

  const bad = xait(["train", ...TINY, ...DATA, "--pretrain-std", "0.5", "--out", join(dir, "z")]);
  assert.equal(bad.status, 2);
  assert.match(
    bad.stderr,
    /^error: --pretrain-std scales the --pretrain-text vectors; give --pretrain-text too\n$/,
  );
  const zero = xait([
    "train",
    ...TINY,
    ...DATA,
    "--pretrain-text",
    train,
    "--pretrain-std",
    "0",
    "--out",
    join(dir, "z"),
  ]);
  assert.equal(zero.status, 2);
  assert.match(zero.stderr, /^error: --pretrain-std must be greater than 0, got 0\n$/);
});

test("xait train --strip-html saves a tokenizer that drops formatting tags, and records it", () => {
  const out = join(dir, "strip-html");
  const r = xait(["train", ...TINY, ...DATA, "--strip-html", "--epochs", "1", "--out", out]);
  assert.equal(r.status, 0, r.stderr);
  const m = loadModel(out);
  assert.deepEqual(m.tokenizer!.encode("good<br />movie").tokens, ["[CLS]", "good", "movie", "[SEP]"]);
  const record = JSON.parse(readFileSync(join(out, "training.json"), "utf8"));
  assert.equal(record.options.stripHtml, true);
  const plain = JSON.parse(readFileSync(join(dir, "first", "training.json"), "utf8"));
  assert.equal(plain.options.stripHtml, false);
});

test("xait train --ema records both accuracies per epoch, and refuses a decay outside (0, 1)", () => {
  const out = join(dir, "ema");
  const r = xait(["train", ...TINY, ...DATA, "--epochs", "2", "--lr", "3e-3", "--ema", "0.9", "--out", out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /epoch 1: .*validation accuracy [\d.]+ \(averaged weights; last step's [\d.]+\)/);
  const record = JSON.parse(readFileSync(join(out, "training.json"), "utf8"));
  assert.equal(record.options.averageDecay, 0.9);
  for (const e of record.epochs) assert.equal(typeof e.lastStepValidationAccuracy, "number");
  for (const bad of ["1", "0", "x"]) {
    const b = xait(["train", ...TINY, ...DATA, "--ema", bad, "--out", join(dir, "ema-bad")]);
    assert.equal(b.status, 2, b.stderr);
    assert.match(b.stderr, /--ema must be/);
    assert.equal(existsSync(join(dir, "ema-bad")), false);
  }
});

for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const) {
  test(`xait train stops on ${signal} after the current step, keeping the last good checkpoint`, async () => {
    const out = join(dir, `stopped-${signal}`);
    const child = spawn(
      process.execPath,
      ["bin/xait.js", "train", ...TINY, ...DATA, "--epochs", "100000", "--out", out],
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
        child.kill(signal);
      }
    });
    const status = await new Promise<number | null>((done) => child.on("close", (c) => done(c)));
    clearTimeout(guard);
    assert.equal(status, code, stderr);
    assert.match(stderr, new RegExp(`${signal}: stopping after this step`));
    const m = /interrupted: the last good checkpoint \(epoch (\d+)\) is in (.+)\n/.exec(stderr);
    assert.ok(m, stderr);
    assert.equal(m[2], out);
    const record = JSON.parse(readFileSync(join(out, "training.json"), "utf8"));
    assert.equal(record.status, "interrupted");
    assert.equal(record.bestEpoch, Number(m[1]));
    assert.ok(record.epochs.length >= record.bestEpoch && record.epochs.length < 100000);
    assert.equal(loadModel(out).config.modelType, "bert");
  });
}
