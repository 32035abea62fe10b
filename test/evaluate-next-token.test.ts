/** Next-token samples: windows of held-out documents, token-id inputs, and `xait evaluate … --next-token`. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { nextTokenWindows } from "../src/evaluate/next-token.js";
import { explain } from "../src/explain/index.js";
import { saveModel } from "../src/models/folder-node.js";
import { XaitError } from "../src/errors.js";
import { tinyDecoder } from "./helpers/tiny-decoders.js";
import { tinyModel } from "./helpers/tiny-models.js";
import { tempDir } from "./helpers/temp-dir.js";

test("nextTokenWindows: consecutive windows of each document, the next token as target, never across documents", () => {
  const docs = [
    [1, 2, 3, 4, 5, 6, 7],
    [8, 9],
    [10, 11, 12, 13],
  ];
  const w = nextTokenWindows(docs, 2);
  assert.deepEqual(w, [
    { ids: [1, 2], target: 3, document: 0 },
    { ids: [4, 5], target: 6, document: 0 },
    { ids: [10, 11], target: 12, document: 2 },
  ]);
  // every window and its target are a contiguous run of one document
  for (const x of nextTokenWindows(docs, 1)) {
    const d = docs[x.document]!;
    const at = d.indexOf(x.ids[0]!);
    assert.deepEqual(d.slice(at, at + 2), [...x.ids, x.target]);
  }
  assert.throws(() => nextTokenWindows(docs, 0), XaitError);
});

test("explain on token ids equals explain on the text that encodes to them; bad ids are refused", () => {
  const model = tinyDecoder("gpt2", 5);
  const text = "Hello good";
  const ids = model.tokenizer!.encode(text).ids;
  const a = explain(model, text, { methods: ["lrp", "gi"] });
  const b = explain(model, { ids }, { methods: ["lrp", "gi"] });
  assert.deepEqual(b.ids, a.ids);
  assert.deepEqual(b.tokens, a.tokens);
  assert.equal(b.text, model.tokenizer!.decode(ids));
  for (const m of ["lrp", "gi"])
    assert.deepEqual(b.explanations[m]!.attributions, a.explanations[m]!.attributions);
  assert.throws(() => explain(model, { ids: [] }), /no token ids/);
  assert.throws(() => explain(model, { ids: [1, 1e6] }), /token id 1000000 is not in the model's vocabulary/);
  assert.throws(
    () => explain(model, { ids: new Array(33).fill(1) }),
    /33 token ids are more than the model's 32 positions/,
  );
});

const dir = tempDir("xait-next-token-");
const lm = join(dir, "lm");
const classifier = join(dir, "bert");
saveModel(tinyDecoder("gpt2", 3), lm);
saveModel(tinyModel("bert", 4), classifier);
const docs = join(dir, "docs.jsonl");
const texts = ["Hello good hello good!", "Hi", "good good good hello Hello hi hi good", "Hello hello"];
writeFileSync(docs, texts.map((text) => JSON.stringify({ text })).join("\n") + "\n");

const xait = (args: string[]) =>
  spawnSync(process.execPath, ["bin/xait.js", ...args], {
    encoding: "utf8",
    env: { ...process.env, XAIT_BACKEND: "js", NO_COLOR: "1" },
  });

test("evaluate perturbation and conservation --next-token: one sample per window, the next token explained", () => {
  const model = tinyDecoder("gpt2", 3);
  const window = 3;
  const expected = nextTokenWindows(
    texts.map((t) => model.tokenizer!.pieces(t).ids),
    window,
  ).length;
  assert.ok(expected >= 2);
  const p = xait([
    "evaluate",
    "perturbation",
    "--model",
    lm,
    "--next-token",
    "--data",
    docs,
    "--window",
    `${window}`,
    "--methods",
    "lrp,gi,random",
    "--json",
  ]);
  assert.equal(p.status, 0, p.stderr);
  const o = JSON.parse(p.stdout);
  assert.equal(o.n, expected);
  assert.match(o.data, new RegExp(`${expected} of ${expected} windows of ${window} tokens`));
  for (const m of ["lrp", "gi", "random"]) assert.ok(Number.isFinite(o.metrics[m].AUAC));
  const c = xait([
    "evaluate",
    "conservation",
    "--model",
    lm,
    "--next-token",
    "--data",
    docs,
    "--window",
    `${window}`,
    "--limit",
    "2",
    "--methods",
    "lrp",
    "--json",
  ]);
  assert.equal(c.status, 0, c.stderr);
  const oc = JSON.parse(c.stdout);
  assert.equal(oc.n, 2);
  // one point per window
  assert.equal(oc.points.length, 2);
});

test("evaluate --next-token: bad input is one line", () => {
  const cases: [string[], RegExp][] = [
    [["--model", classifier, "--next-token", "--data", docs], /needs a causal language model/],
    [
      ["--model", lm, "--next-token", "--data", docs, "--window", "40"],
      /--window 40 is longer than the model's 32 positions/,
    ],
    [["--model", lm, "--next-token", "--data", docs, "--window", "30"], /no document has 31 tokens/],
    [["--model", lm, "--next-token"], /--next-token needs --data/],
    [["--model", lm, "--data", docs, "--window", "5"], /--window applies to --next-token only/],
  ];
  for (const [args, pattern] of cases) {
    const r = xait(["evaluate", "perturbation", ...args, "--methods", "gi"]);
    assert.notEqual(r.status, 0, args.join(" "));
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
});
