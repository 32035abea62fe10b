import { test } from "node:test";
import assert from "node:assert/strict";
import { makeBatch, modelFromFiles, modelToFiles, writeSafetensors } from "../src/models/index.js";
import { noGrad } from "../src/tensor/index.js";
import { ENCODER_TYPES, referenceLogits, tinyConfig, tinyModel } from "./helpers/tiny-models.js";

const near = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string) => {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

const SEQS = [
  [2, 5, 7, 13, 14, 3],
  [2, 6, 12, 3],
  [2, 8, 9, 5, 10, 11, 12, 3],
];

for (const type of ENCODER_TYPES) {
  test(`${type}: forward pass equals an independent Float64 re-computation`, () => {
    const m = tinyModel(type);
    for (const ids of SEQS) {
      const logits = noGrad(() => m.forward(makeBatch([{ ids }], 0)));
      near(logits.data, referenceLogits(m, ids), 2e-5, `${type} logits`);
    }
  });

  test(`${type}: save/load round trip keeps every tensor and the logits`, () => {
    const m = tinyModel(type, 3);
    const files = modelToFiles(m, "F32");
    const back = modelFromFiles({
      config: files["config.json"],
      weights: files["model.safetensors"],
      tokenizerJson: files["tokenizer.json"],
    });
    for (const [name, t] of m.params)
      assert.deepEqual(Array.from(back.params.get(name)!.data), Array.from(t.data), name);
    assert.deepEqual(back.config.labels, m.config.labels);
    assert.deepEqual(back.tokenizer!.encode("good movie").ids, m.tokenizer!.encode("good movie").ids);
    const b = makeBatch([{ ids: SEQS[0]! }], 0);
    near(noGrad(() => back.forward(b)).data, noGrad(() => m.forward(b)).data, 0, "logits after round trip");
    const half = modelToFiles(m, "F16");
    const back16 = modelFromFiles({
      config: half["config.json"],
      weights: half["model.safetensors"],
      tokenizerJson: half["tokenizer.json"],
    });
    near(
      noGrad(() => back16.forward(b)).data,
      noGrad(() => m.forward(b)).data,
      0.05,
      "logits after F16 round trip",
    );
  });
}

for (const type of ["bert", "roberta", "distilbert"] as const) {
  test(`${type}: a padded batch gives the same logits as each sequence alone`, () => {
    const m = tinyModel(type, 5);
    const batched = noGrad(() =>
      m.forward(
        makeBatch(
          SEQS.map((ids) => ({ ids })),
          0,
        ),
      ),
    ).data;
    SEQS.forEach((ids, r) => {
      const alone = noGrad(() => m.forward(makeBatch([{ ids }], 0))).data;
      near(batched.subarray(r * 2, r * 2 + 2), alone, 1e-5, `${type} row ${r}`);
    });
  });
}

test("xai-transformer (no attention mask, as in the paper): a batch of equal-length sequences equals each alone", () => {
  const m = tinyModel("xai-transformer", 5);
  const seqs = [SEQS[0]!, [2, 6, 6, 12, 14, 3]];
  const batched = noGrad(() =>
    m.forward(
      makeBatch(
        seqs.map((ids) => ({ ids })),
        0,
      ),
    ),
  ).data;
  seqs.forEach((ids, r) =>
    near(
      batched.subarray(r * 2, r * 2 + 2),
      noGrad(() => m.forward(makeBatch([{ ids }], 0))).data,
      1e-5,
      `row ${r}`,
    ),
  );
});

test("bert: token type ids of a text pair enter the embeddings", () => {
  const m = tinyModel("bert", 2);
  const ids = [2, 5, 3, 6, 3];
  const types = [0, 0, 0, 1, 1];
  const logits = noGrad(() => m.forward(makeBatch([{ ids, typeIds: types }], 0))).data;
  near(logits, referenceLogits(m, ids, types), 2e-5, "pair logits");
});

test("loading refuses missing tensors, wrong shapes, unknown model types, bad JSON — naming the problem", () => {
  const m = tinyModel("bert");
  const files = modelToFiles(m);
  const tensors = [...m.params].map(([name, t]) => ({
    name,
    shape: t.shape.slice(),
    data: Float32Array.from(t.data),
  }));
  const without = writeSafetensors(
    tensors.filter((t) => t.name !== "bert.pooler.dense.weight"),
    "F32",
  );
  assert.throws(
    () =>
      modelFromFiles({
        config: files["config.json"],
        weights: without,
        tokenizerJson: files["tokenizer.json"],
      }),
    /tensor bert\.pooler\.dense\.weight is missing/,
  );
  const misshaped = writeSafetensors(
    tensors.map((t) => (t.name === "classifier.weight" ? { ...t, shape: [1, 16], data: t.data } : t)),
    "F32",
  );
  assert.throws(
    () => modelFromFiles({ config: files["config.json"], weights: misshaped }),
    /classifier\.weight has shape \[1,16\], config wants \[2,8\]/,
  );
  assert.throws(
    () =>
      modelFromFiles({
        config: tinyConfig("bert").replace('"bert"', '"t5"'),
        weights: files["model.safetensors"],
      }),
    /unsupported model_type "t5" \(supported: bert, roberta, distilbert, xai-transformer, gpt2, llama, mistral, qwen2\)/,
  );
  assert.throws(
    () => modelFromFiles({ config: "{not json", weights: files["model.safetensors"] }),
    /config\.json: not valid JSON/,
  );
});

test("legacy LayerNorm.gamma/beta names load; unexpected tensors only warn", () => {
  const m = tinyModel("bert");
  const tensors = [...m.params].map(([name, t]) => ({
    name: name.replace(/LayerNorm\.weight$/, "LayerNorm.gamma").replace(/LayerNorm\.bias$/, "LayerNorm.beta"),
    shape: t.shape.slice(),
    data: Float32Array.from(t.data),
  }));
  tensors.push({ name: "cls.predictions.bias", shape: [16], data: new Float32Array(16) });
  const warnings: string[] = [];
  const back = modelFromFiles(
    { config: tinyConfig("bert"), weights: writeSafetensors(tensors, "F32") },
    (w) => warnings.push(w),
  );
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /unexpected tensor.*cls\.predictions\.bias/);
  const b = makeBatch([{ ids: SEQS[1]! }], 0);
  near(noGrad(() => back.forward(b)).data, noGrad(() => m.forward(b)).data, 0, "logits");
});
