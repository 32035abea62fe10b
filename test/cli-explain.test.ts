import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { saveModel } from "../src/models/folder-node.js";
import { METHOD_IDS } from "../src/explain/index.js";
import { tinyModel } from "./helpers/tiny-models.js";
import { tempDir } from "./helpers/temp-dir.js";

const dir = tempDir("xait-cli-");
const modelDir = join(dir, "model");
saveModel(tinyModel("bert", 4), modelDir);

const xait = (args: string[], input?: string) =>
  spawnSync(process.execPath, ["bin/xait.js", ...args], {
    encoding: "utf8",
    input,
    env: { ...process.env, XAIT_BACKEND: "js", NO_COLOR: "1" },
  });

test("explain --json prints exactly one object with one attribution per token for every method", () => {
  const r = xait([
    "explain",
    "--model",
    modelDir,
    "--method",
    "all",
    "--steps",
    "4",
    "--json",
    "good movie !",
  ]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines.length, 1);
  const o = JSON.parse(lines[0]!);
  assert.equal(o.model, modelDir);
  assert.equal(o.text, "good movie !");
  assert.deepEqual(o.tokens, ["[CLS]", "good", "movie", "!", "[SEP]"]);
  assert.equal(o.ids.length, 5);
  assert.equal(o.logits.length, 2);
  assert.ok(Math.abs(o.probabilities[0] + o.probabilities[1] - 1) < 1e-9);
  assert.deepEqual(Object.keys(o.explanations), [...METHOD_IDS]);
  for (const id of METHOD_IDS) {
    assert.equal(o.explanations[id].attributions.length, 5, id);
    assert.equal(o.explanations[id].logit, o.logits[o.target]);
  }
  assert.equal(o.explanations.lrp.layers.length, 3);
});

test("explain reads texts from stdin, one per line, and writes a self-contained HTML report", () => {
  const html = join(dir, "report.html");
  const r = xait(["explain", "--model", modelDir, "--json", "--html", html], "good movie\nbad film\n");
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split("\n").length, 2);
  assert.match(readFileSync(html, "utf8"), /<!DOCTYPE html>/i);
});

test("explain without --json prints a readable table with the prediction", () => {
  const r = xait(["explain", "--model", modelDir, "--method", "lrp,gi", "not very good"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /POSITIVE|NEGATIVE/);
  assert.match(r.stdout, /lrp/);
  assert.match(r.stdout, /gi/);
});

test("bad input: one-line errors, usage errors exit 2, runtime errors exit 1, no stack traces", () => {
  const cases: [string[], number, RegExp, string?][] = [
    [["explain", "--model", modelDir, "--method", "shap", "x"], 2, /unknown method 'shap' \(valid: lrp,/],
    [["explain", "--model", modelDir, "--target", "7", "good"], 2, /target 7 is out of range/],
    [["explain", "--model", join(dir, "nope"), "good"], 1, /model folder .*nope does not exist/],
    [["explain", "--model", modelDir, "   "], 2, /empty text/],
    [["explain", "--model", modelDir, "--steps", "zero", "good"], 2, /--steps must be an integer/],
    [["explain", "--model", modelDir, "--bogus", "good"], 2, /bogus/],
    [["explain", "--model", modelDir], 2, /no text to explain/, ""],
  ];
  for (const [args, code, message, input] of cases) {
    const r = xait(args, input);
    assert.equal(r.status, code, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "");
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^error: /);
    assert.match(lines[0]!, message);
  }
});

test("text longer than the model's positions is truncated with a warning on stderr", () => {
  const long = Array.from({ length: 40 }, () => "good").join(" ");
  const r = xait(["explain", "--model", modelDir, "--json", long]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^warning: text truncated to 20 tokens/m);
  assert.equal(JSON.parse(r.stdout).tokens.length, 20);
});

test("a corrupt model file is refused with a one-line error naming it", () => {
  const bad = join(dir, "bad");
  saveModel(tinyModel("bert", 4), bad);
  writeFileSync(join(bad, "model.safetensors"), new Uint8Array([1, 2, 3]));
  const r = xait(["explain", "--model", bad, "good"]);
  assert.equal(r.status, 1);
  assert.match(r.stderr.trim(), /^error: .*model\.safetensors/);
  assert.equal(r.stderr.trim().split("\n").length, 1);
});
