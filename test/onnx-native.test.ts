/**
 * The native backend against the tape: every compiled method on every model family (tiny random
 * models and the bundled ones), on padded batches of rows of different lengths — relevance, the
 * per-block sums and the logits agree to 1e-4 relative in Float32. Skips with a message where
 * onnxruntime-node is not installed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { mkdtempSync, writeFileSync, mkdirSync, rmSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { spawnSync } from "node:child_process";
import { getMethod, type BatchInput, type MethodOutput } from "../src/explain/index.js";
import {
  configFromObject,
  makeBatch,
  setAccelerator,
  TransformerModel,
  type Batch,
} from "../src/models/index.js";
import { loadModel } from "../src/node.js";
import { loadOrt, NativeAccelerator, OrtUnavailable, INSTALL_HINT } from "../src/onnx/native-node.js";
import { setupNative } from "../src/onnx/register-node.js";
import { tinyModel, ENCODER_TYPES } from "./helpers/tiny-models.js";
import { tinyDecoder, tinyDecoderConfig, tinyTokenizer } from "./helpers/tiny-decoders.js";

const root = join(fileURLToPath(import.meta.url), "..", "..", "..");

let ort: ReturnType<typeof loadOrt> | null = null;
let why = "";
try {
  ort = loadOrt();
} catch (e) {
  why = e instanceof Error ? e.message : String(e);
}
const skip = ort ? false : `native backend not tested: ${why}`;
if (skip) process.stderr.write(`# ${skip}\n`);

const COMPILED = ["lrp", "lrp-ah", "attnlrp", "gi", "saliency"];

/** max |a − b| / max |b|. */
function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return m === 0 ? d : d / m;
}

function rowsBatch(model: TransformerModel, lengths: number[]): Batch {
  const vocab = model.config.vocabSize;
  return makeBatch(
    lengths.map((n, r) => ({
      ids: Array.from({ length: n }, (_, t) => (1 + t * 5 + r * 11) % vocab),
      typeIds: Array.from({ length: n }, (_, t) => (model.config.modelType === "bert" && t > n / 2 ? 1 : 0)),
    })),
    model.config.padTokenId % vocab,
  );
}

interface Compared {
  relevance: number;
  layers: number;
  logits: number;
}

/** Run `method` on the tape and natively; the relative errors. */
function compare(
  acc: NativeAccelerator,
  model: TransformerModel,
  method: string,
  batch: Batch,
  gamma = 0,
): Compared {
  const classes = model.numLabels;
  const input: BatchInput = {
    model,
    batch,
    targets: Array.from({ length: batch.batch }, (_, r) => (r * 3 + 1) % classes),
    contrasts: Array.from({ length: batch.batch }, (_, r) => (r === 1 ? (r + 2) % classes : null)),
    options: { gamma, steps: 4, seed: 1 },
  };
  const m = getMethod(method);
  setAccelerator(null);
  const tape = m.runBatch!(input);
  const tapeLogits = model.predict(batch).data;
  setAccelerator(acc);
  let native: MethodOutput[];
  let nativeLogits: ArrayLike<number>;
  try {
    native = m.runBatch!(input);
    nativeLogits = model.predict(batch).data;
  } finally {
    setAccelerator(null);
  }
  const flat = (o: MethodOutput[], key: "attributions" | "layers") => o.flatMap((r) => r[key] ?? []);
  return {
    relevance: relError(flat(native, "attributions"), flat(tape, "attributions")),
    layers: relError(flat(native, "layers"), flat(tape, "layers")),
    logits: relError(nativeLogits, tapeLogits),
  };
}

const results: string[] = [];

function family(name: string, make: () => TransformerModel, lengths: number[], methods = COMPILED) {
  test(`native agrees with the tape: ${name}`, { skip }, () => {
    const acc = new NativeAccelerator(ort!, { threads: 2, minForwardTokens: 0 });
    const model = make();
    for (const lens of [lengths, [lengths[0]!]]) {
      const batch = rowsBatch(model, lens);
      for (const method of methods) {
        const c = compare(acc, model, method, batch);
        results.push(
          `${name} ${method} batch ${lens.join("/")}: relevance ${c.relevance.toExponential(1)}, blocks ${c.layers.toExponential(1)}, logits ${c.logits.toExponential(1)}`,
        );
        for (const [k, v] of Object.entries(c))
          assert.ok(v <= 1e-4, `${name} ${method} ${k}: relative error ${v}`);
      }
    }
    // LRP-γ on the linear layers compiles too; its division by z⁺ (stabilised only at 1e-6) amplifies
    // float32 rounding differences, so it agrees to a looser 5e-2
    const c = compare(acc, model, "lrp", rowsBatch(model, lengths), 0.25);
    results.push(
      `${name} lrp γ=0.25: relevance ${c.relevance.toExponential(1)}, blocks ${c.layers.toExponential(1)}`,
    );
    assert.ok(
      c.relevance <= 5e-2 && c.layers <= 5e-2 && c.logits <= 1e-4,
      `${name} lrp γ: ${JSON.stringify(c)}`,
    );
  });
}

for (const type of ENCODER_TYPES) family(type, () => tinyModel(type, 3), [7, 4, 5]);
for (const type of ["gpt2", "llama", "mistral", "qwen2"] as const)
  family(type, () => tinyDecoder(type, 2), [6, 3, 9]);
family(
  "llama classifier",
  () =>
    TransformerModel.initialise(
      configFromObject(
        tinyDecoderConfig("llama", {
          architectures: ["LlamaForSequenceClassification"],
          id2label: { "0": "NEGATIVE", "1": "POSITIVE" },
          pad_token_id: 0,
        }),
      ),
      4,
      tinyTokenizer(),
      0.5,
    ),
  [5, 8, 2],
);
family("models/sst2-bert", () => loadModel(join(root, "models/sst2-bert")), [12, 5, 9]);
family(
  "models/reviews-gpt2",
  () => loadModel(join(root, "models/reviews-gpt2")),
  [10, 4],
  ["lrp", "attnlrp", "gi"],
);

test("agreement numbers", { skip }, () => {
  process.stderr.write(results.map((r) => `# ${r}\n`).join(""));
});

test("methods that do not compile keep the engine's path and give the same scores", { skip }, () => {
  const acc = new NativeAccelerator(ort!, { threads: 2, minForwardTokens: 0 });
  const model = tinyModel("bert", 5);
  const batch = rowsBatch(model, [6]);
  for (const method of ["ig", "occlusion", "attention-flow", "rollout"]) {
    const input = { model, batch, target: 1, options: { gamma: 0, steps: 4, seed: 1 } };
    setAccelerator(null);
    const tape = getMethod(method).run(input);
    setAccelerator(acc);
    try {
      const native = getMethod(method).run(input);
      assert.ok(relError(native.attributions, tape.attributions) <= 1e-4, method);
    } finally {
      setAccelerator(null);
    }
  }
});

/** A fake onnxruntime-node folder whose module throws on load. */
function brokenOrt(): string {
  const dir = mkdtempSync(join(tmpdir(), "xait-broken-ort-"));
  mkdirSync(join(dir, "dist"));
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "onnxruntime-node", version: "1.31.1", main: "index.js" }),
  );
  writeFileSync(
    join(dir, "index.js"),
    "throw new Error('cannot open shared object file libonnxruntime.so.1');\n",
  );
  return dir;
}

function cli(args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, [join(root, "bin/xait.js"), ...args], {
    env: { ...process.env, ...env },
    encoding: "utf8",
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("a missing or broken onnxruntime-node: wasm by default, one line each", () => {
  const missing = join(tmpdir(), "xait-no-such-onnxruntime");
  assert.throws(
    () => loadOrt(missing),
    (e: unknown) => e instanceof OrtUnavailable && e.missing,
  );
  const broken = brokenOrt();
  try {
    assert.throws(
      () => loadOrt(broken),
      (e: unknown) => e instanceof OrtUnavailable && !e.missing && /libonnxruntime/.test(e.message),
    );
    // the library call: a broken module is one warning and no accelerator
    const warnings: string[] = [];
    const saved = process.env["XAIT_ORT_MODULE"];
    process.env["XAIT_ORT_MODULE"] = broken;
    try {
      assert.equal(setupNative({ backend: "", warn: (m) => warnings.push(m) }), null);
    } finally {
      if (saved === undefined) delete process.env["XAIT_ORT_MODULE"];
      else process.env["XAIT_ORT_MODULE"] = saved;
    }
    assert.equal(warnings.length, 1);
    // default choice, broken module: one warning line naming the reason, results from wasm
    let r = cli(["explain", "--json", "--verbose", "a gripping film"], {
      XAIT_ORT_MODULE: broken,
      XAIT_BACKEND: "",
    });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.filter((l) => l.startsWith("warning:")).length, 1, r.stderr);
    assert.match(r.stderr, /warning: onnxruntime-node at .* cannot be used: cannot open shared object file/);
    assert.match(r.stderr, /backend: wasm/);
    assert.ok(JSON.parse(r.stdout).explanations.lrp);
    // default choice, not installed: silently wasm
    r = cli(["explain", "--json", "a gripping film"], { XAIT_ORT_MODULE: missing, XAIT_BACKEND: "" });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    // native asked for, not installed: one error line that says how to install it
    r = cli(["explain", "a gripping film"], { XAIT_ORT_MODULE: missing, XAIT_BACKEND: "native" });
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(
      r.stderr,
      /^error: XAIT_BACKEND=native: onnxruntime-node is not installed \(add it with: ONNXRUNTIME_NODE_INSTALL=skip npm install --no-save --save-peer onnxruntime-node@1\.31\.1\)/,
    );
  } finally {
    rmSync(broken, { recursive: true, force: true });
  }
});

test("the install command in the README and in the error is one that installs (npm 11 skips a declared optional peer without --save-peer)", () => {
  assert.match(INSTALL_HINT, /npm install --no-save --save-peer onnxruntime-node@/);
  const readme = readFileSync(join(root, "README.md"), "utf8");
  assert.ok(readme.includes(INSTALL_HINT), "README.md does not show the install command the error names");
  const ci = readFileSync(join(root, ".ci", "run"), "utf8");
  assert.ok(ci.includes(INSTALL_HINT), ".ci/run does not install the accelerator the way the README says");
});

test("XAIT_BACKEND=native: methods that do not compile say so in one line and run on wasm", { skip }, () => {
  const r = cli(["explain", "--json", "--verbose", "--method", "lrp,occlusion", "a gripping film"], {
    XAIT_BACKEND: "native",
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /backend: native \(onnxruntime-node/);
  const warnings = r.stderr.split("\n").filter((l) => l.startsWith("warning:"));
  assert.deepEqual(warnings, ["warning: occlusion does not compile to an ONNX graph; it runs on wasm"]);
  const out = JSON.parse(r.stdout);
  assert.ok(out.explanations.lrp && out.explanations.occlusion);
});

test(
  "xait export writes a graph that onnxruntime runs to the same relevance as explain",
  { skip },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "xait-export-"));
    try {
      const file = join(dir, "explain.onnx");
      let r = cli(["export", "--method", "lrp", "--out", file], {});
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stderr,
        /^wrote .*explain\.onnx .*inputs input_ids, attention_mask, token_type_ids, seed; outputs logits, relevance, block_relevance\n$/,
      );
      assert.equal(readdirSync(dir).length, 1); // no temporary file left
      r = cli(["explain", "--json", "--method", "lrp", "a gripping, funny and moving film"], {
        XAIT_BACKEND: "wasm",
      });
      assert.equal(r.code, 0, r.stderr);
      const want = JSON.parse(r.stdout);
      // the exported file through onnxruntime-node's public API
      const require = createRequire(import.meta.url);
      const ortApi = require("onnxruntime-node") as {
        InferenceSession: {
          create(path: string): Promise<{ run(f: object): Promise<Record<string, { data: Float32Array }>> }>;
        };
        Tensor: new (type: string, data: unknown, dims: number[]) => unknown;
      };
      const session = await ortApi.InferenceSession.create(file);
      const n = want.ids.length;
      const i64 = (a: number[]) => new ortApi.Tensor("int64", BigInt64Array.from(a.map(BigInt)), [1, n]);
      const seed = new Float32Array(2);
      seed[want.target] = 1;
      const out = await session.run({
        input_ids: i64(want.ids),
        attention_mask: i64(want.ids.map(() => 1)),
        token_type_ids: i64(want.ids.map(() => 0)),
        seed: new ortApi.Tensor("float32", seed, [1, 2]),
      });
      assert.ok(relError(out["relevance"]!.data, want.explanations.lrp.attributions) <= 1e-4);
      assert.ok(relError(out["logits"]!.data, want.logits) <= 1e-4);
      // bad flags: one line each, exit code 2
      for (const args of [
        ["export", "--method", "lrp"],
        ["export", "--method", "occlusion", "--out", file],
        ["export", "--method", "forward", "--gamma", "0.5", "--out", file],
        ["export", "--out", dir + "/"],
      ]) {
        const b = cli(args, {});
        assert.equal(b.code, 2, args.join(" "));
        assert.equal(b.stderr.trim().split("\n").length, 1, b.stderr);
        assert.match(b.stderr, /^error: /);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
