/** `xait explain` on decoder folders: next token, --target-token, --contrast, --generate, --rule and bad input. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { saveModel } from "../src/models/folder-node.js";
import { tinyDecoder } from "./helpers/tiny-decoders.js";
import { tinyModel } from "./helpers/tiny-models.js";
import { tempDir } from "./helpers/temp-dir.js";

const dir = tempDir("xait-cli-dec-");
const gpt2 = join(dir, "gpt2");
const bert = join(dir, "bert");
saveModel(tinyDecoder("gpt2", 21), gpt2);
saveModel(tinyModel("bert", 4), bert);

const xait = (args: string[]) =>
  spawnSync(process.execPath, ["bin/xait.js", ...args], {
    encoding: "utf8",
    env: { ...process.env, XAIT_BACKEND: "js", NO_COLOR: "1" },
  });

test("explain on a language model: the next token, target_token in the JSON, a contrast", () => {
  const r = xait(["explain", "--model", gpt2, "--json", "--method", "lrp,gi", "Hello goo"]);
  assert.equal(r.status, 0, r.stderr);
  const o = JSON.parse(r.stdout);
  assert.equal(o.target_token.id, o.output_ids[o.target]);
  assert.equal(o.explanations.lrp.attributions.length, o.tokens.length);
  const c = xait([
    "explain",
    "--model",
    gpt2,
    "--json",
    "--target-token",
    " goo",
    "--contrast",
    "!",
    "Hello",
  ]);
  assert.equal(c.status, 0, c.stderr);
  const oc = JSON.parse(c.stdout);
  assert.deepEqual(oc.target_token, { id: 258, text: " goo" });
  assert.deepEqual(oc.contrast, { id: 33, text: "!" });
  const t = xait(["explain", "--model", gpt2, "--target-token", " goo", "Hello"]);
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /next token: ".*" \(p = .*\), explaining token: " goo"/);
});

test("explain --generate N: a steps array, step s explains token s over every token before it", () => {
  const r = xait(["explain", "--model", gpt2, "--json", "--generate", "3", "Hi"]);
  assert.equal(r.status, 0, r.stderr);
  const o = JSON.parse(r.stdout);
  assert.equal(o.steps.length, 3);
  o.steps.forEach((s: { tokens: string[]; target_token: { id: number } }, i: number) => {
    assert.equal(s.tokens.length, 2 + i);
    assert.equal(s.target_token.id, o.generated_tokens[i].id);
  });
  const plain = xait(["explain", "--model", gpt2, "--generate", "2", "Hi"]);
  assert.equal(plain.status, 0, plain.stderr);
  assert.match(plain.stdout, /^generated: /);
  assert.match(plain.stdout, /step 2: next token/);
});

test("explain --rule overrides a site; its sum changes, the prediction does not", () => {
  const a = JSON.parse(xait(["explain", "--model", bert, "--json", "good movie"]).stdout);
  const r = xait(["explain", "--model", bert, "--json", "--rule", "head.activation=identity", "good movie"]);
  assert.equal(r.status, 0, r.stderr);
  const b = JSON.parse(r.stdout);
  assert.deepEqual(b.logits, a.logits);
  assert.notEqual(b.explanations.lrp.sum, a.explanations.lrp.sum);
});

test("bad input on decoders and rules: one-line usage errors", () => {
  const cases: [string[], RegExp][] = [
    [["--model", gpt2, "--generate", "0", "Hi"], /--generate must be at least 1/],
    [["--model", gpt2, "--target-token", " good", "Hi"], /" good" is 2 tokens \("Ġgoo", "d"\), not one/],
    [["--model", gpt2, "--target", "99999", "Hi"], /not a token id of the model's vocabulary/],
    [["--model", gpt2, "   "], /empty text/],
    [["--model", bert, "--target-token", " good", "good"], /--target-token applies to language models/],
    [["--model", bert, "--generate", "2", "good"], /--generate needs a causal language model/],
    [
      ["--model", bert, "--rule", "head.activation=detach", "good"],
      /unknown rule 'detach' for site head\.activation \(rules: gradient, identity\)/,
    ],
    [["--model", bert, "--rule", "pooler=identity", "good"], /unknown rule site 'pooler'/],
    [["--model", bert, "--rule", "linear=gamma:-1", "good"], /γ must be a number from 0 to 1000/],
    [
      ["--model", bert, "--method", "occlusion", "--rule", "mlp.gate=detach", "good"],
      /--rule changes the rule-set methods/,
    ],
  ];
  for (const [args, message] of cases) {
    const r = xait(["explain", ...args]);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, message);
  }
});
