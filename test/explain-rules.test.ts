/** The rule-set methods against independent computations (issue 5 §6). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeBatch, type TransformerModel } from "../src/models/index.js";
import {
  explain,
  explainMany,
  embeddingGradient,
  LRP_RULES,
  METHOD_IDS,
  getMethod,
  parseMethods,
} from "../src/explain/index.js";
import { Tensor, noGrad } from "../src/tensor/index.js";
import { GRADIENT_RULES, type LinearSpec } from "../src/models/index.js";
import { tinyModel } from "./helpers/tiny-models.js";
import { float64 } from "./helpers/float64.js";

const IDS = [2, 5, 7, 8, 9, 13, 3];
const input = (model: TransformerModel, target = 1, steps = 50) => ({
  model,
  batch: makeBatch([{ ids: IDS }], 0),
  target,
  options: { gamma: 0, steps, seed: 0 },
});

for (const type of ["xai-transformer", "bert", "roberta", "distilbert"] as const) {
  test(`${type}, bias-free: lrp conserves relevance through every block`, () => {
    const m = float64(tinyModel(type, 11), true);
    const layers = embeddingGradient(input(m), LRP_RULES, true).layers![0]!;
    assert.ok(layers.length === m.config.numLayers + 1);
    for (const s of layers)
      assert.ok(
        Math.abs(s - layers[layers.length - 1]!) < 1e-10 * Math.max(1, Math.abs(s)),
        `block sums ${layers.join(", ")}`,
      );
  });
}

test("gi on the unmodified model does not conserve through blocks (the motivation of the paper)", () => {
  const m = float64(tinyModel("xai-transformer", 11), true);
  const layers = embeddingGradient(input(m), GRADIENT_RULES, true).layers![0]!;
  assert.ok(Math.abs(layers[0]! - layers[layers.length - 1]!) > 1e-6);
});

/**
 * Explicit LRP-0 with the AH and LN rules on a one-block xai-transformer, written out as relevance
 * redistribution formulas: R_i = Σ_j x_i w_ij / z_j · R_j through every linear map, with the
 * attention probabilities and the LayerNorm std as constants.
 */
function explicitLrp(m: TransformerModel, ids: number[], target: number): number[] {
  const T = ids.length;
  const H = m.config.hiddenSize;
  const nh = m.config.numHeads;
  const dh = H / nh;
  const P = (n: string) => m.params.get(n)!.data;
  const block = m.architecture.blocks[0]!;
  const proj = block.attention.projections as { q: LinearSpec; k: LinearSpec; v: LinearSpec };
  const L = { query: proj.q, key: proj.k, value: proj.v, output: block.attention.output } as const;
  const E = noGrad(() => m.embed(makeBatch([{ ids }], 0))).data;
  const row = (a: ArrayLike<number>, t: number) => Array.from({ length: H }, (_, d) => a[t * H + d]!);
  const x = Array.from({ length: T }, (_, t) => row(E, t));
  const lin = (inp: number[], n: LinearSpec) =>
    Array.from(
      { length: H },
      (_, o) => P(n.bias!)[o]! + inp.reduce((s, v, i) => s + v * P(n.weight)[o * H + i]!, 0),
    );
  const q = x.map((r) => lin(r, L.query));
  const k = x.map((r) => lin(r, L.key));
  const v = x.map((r) => lin(r, L.value));
  const p: number[][][] = []; // [head][t][s]
  for (let h = 0; h < nh; h++)
    p.push(
      q.map((qt) => {
        const sc = k.map((ks) =>
          qt.slice(h * dh, (h + 1) * dh).reduce((a, b, e) => a + b * ks[h * dh + e]!, 0),
        );
        const mx = Math.max(...sc);
        const ex = sc.map((s) => Math.exp(s - mx));
        const z = ex.reduce((a, b) => a + b, 0);
        return ex.map((e) => e / z);
      }),
    );
  const c = Array.from({ length: T }, (_, t) =>
    Array.from({ length: H }, (_, d) =>
      v.reduce((s, vs, si) => s + p[Math.floor(d / dh)]![t]![si]! * vs[d]!, 0),
    ),
  );
  const o = c.map((r) => lin(r, L.output));
  const z = o.map((r, t) => r.map((val, d) => val + x[t]![d]!));
  const eps = m.config.normEps;
  const sigma = z.map((r) => {
    const mu = r.reduce((a, b) => a + b, 0) / H;
    return Math.sqrt(r.reduce((a, b) => a + (b - mu) ** 2, 0) / (H - 1)) + eps;
  });
  const y = z.map((r, t) => {
    const mu = r.reduce((a, b) => a + b, 0) / H;
    return r.map((val) => (val - mu) / sigma[t]!);
  });
  // relevance at the block output: the head (plain gradient) at position 0: R = y ⊙ ∂f/∂y
  const hd = m.architecture.head as { dense: LinearSpec; classifier: LinearSpec };
  const pre = lin(y[0]!, hd.dense);
  const wc = P(hd.classifier.weight);
  const gPooled = pre.map((_, j) => wc[target * H + j]!);
  const gPre = pre.map((a, j) => gPooled[j]! * (1 - Math.tanh(a) ** 2));
  const gY0 = Array.from({ length: H }, (_, i) =>
    gPre.reduce((s, g, j) => s + g * P(hd.dense.weight)[j * H + i]!, 0),
  );
  const Ry = y.map((r, t) => r.map((val, d) => (t === 0 ? val * gY0[d]! : 0)));
  // LN-rule: y_j = Σ_i z_i (δ_ij − 1/H)/σ — LRP-0 on this linear map
  const Rz = z.map((zr, t) =>
    zr.map((zi, i) =>
      Ry[t]!.reduce((s, R, j) => s + ((zi * ((i === j ? 1 : 0) - 1 / H)) / sigma[t]! / y[t]![j]!) * R, 0),
    ),
  );
  // residual z = o + x: split in proportion (the output bias absorbs its share)
  const Rx = x.map((r, t) => r.map((xi, d) => (xi / z[t]![d]!) * Rz[t]![d]!));
  const Ro = o.map((r, t) => r.map((oi, d) => ((oi - P(L.output.bias!)[d]!) / z[t]![d]!) * Rz[t]![d]!));
  // output dense: R_c[k] = Σ_i c_k W_ik / o_i · R_o[i]   (o_i includes its bias: LRP-0)
  const Rc = c.map((cr, t) =>
    cr.map((ck, kk) =>
      o[t]!.reduce(
        (s, oi, i) =>
          s +
          ((ck * P(L.output.weight)[i * H + kk]!) / oi) * (Ro[t]![i]! * (oi / (oi - P(L.output.bias!)[i]!))),
        0,
      ),
    ),
  );
  // AH-rule: c_td = Σ_s p_ts v_sd — R_v[s][d] = Σ_t p_ts v_sd / c_td · R_c[t][d]
  const Rv = v.map((vr, s) =>
    vr.map((vd, d) =>
      c.reduce((acc, ct, t) => acc + ((p[Math.floor(d / dh)]![t]![s]! * vd) / ct[d]!) * Rc[t]![d]!, 0),
    ),
  );
  // value projection: R_x[s][k] += Σ_d x_k W_dk / v_d · R_v[d]
  for (let s = 0; s < T; s++)
    for (let kk = 0; kk < H; kk++)
      Rx[s]![kk]! += v[s]!.reduce(
        (acc, vd, d) => acc + ((x[s]![kk]! * P(L.value.weight)[d * H + kk]!) / vd) * Rv[s]![d]!,
        0,
      );
  return Rx.map((r) => r.reduce((a, b) => a + b, 0));
}

test("lrp on a one-block xai-transformer equals the explicit AH/LN LRP-0 formulas", () => {
  const m = float64(tinyModel("xai-transformer", 4, { num_hidden_layers: 1 }));
  for (const target of [0, 1]) {
    const want = explicitLrp(m, IDS, target);
    const got = getMethod("lrp").run(input(m, target)).attributions;
    want.forEach((w, t) =>
      assert.ok(
        Math.abs(w - got[t]!) < 1e-9 * Math.max(1, Math.abs(w)),
        `token ${t}: ${got[t]} vs explicit ${w}`,
      ),
    );
  }
});

test("gi and saliency equal Gradient×Input and |gradient| by central finite differences", () => {
  const m = float64(tinyModel("bert", 6));
  const inp = input(m, 0);
  const E = noGrad(() => m.embed(inp.batch));
  const f = (e: Tensor) => noGrad(() => m.encode(e, inp.batch)).data[0]!;
  const H = m.config.hiddenSize;
  const gi = getMethod("gi").run(inp).attributions;
  const sal = getMethod("saliency").run(inp).attributions;
  for (let t = 0; t < IDS.length; t++) {
    let giT = 0;
    let salT = 0;
    for (let d = 0; d < H; d++) {
      const i = t * H + d;
      const up = Float64Array.from(E.data);
      const down = Float64Array.from(E.data);
      up[i]! += 1e-6;
      down[i]! -= 1e-6;
      const g = (f(new Tensor(up, E.shape)) - f(new Tensor(down, E.shape))) / 2e-6;
      giT += E.data[i]! * g;
      salT += Math.abs(g);
    }
    assert.ok(Math.abs(giT - gi[t]!) < 1e-6, `gi token ${t}: ${gi[t]} vs ${giT}`);
    assert.ok(Math.abs(salT - sal[t]!) < 1e-6, `saliency token ${t}: ${sal[t]} vs ${salT}`);
  }
});

test("ig approaches completeness: Σ R → f(x) − f(0) as the steps grow", () => {
  const m = float64(tinyModel("bert", 8));
  const inp = input(m, 1);
  const E = noGrad(() => m.embed(inp.batch));
  const fx = noGrad(() => m.encode(E, inp.batch)).data[1]!;
  const f0 = noGrad(() => m.encode(Tensor.zeros(E.shape.slice(), "float64"), inp.batch)).data[1]!;
  const gap = (steps: number) =>
    Math.abs(
      getMethod("ig")
        .run(input(m, 1, steps))
        .attributions.reduce((a, b) => a + b, 0) -
        (fx - f0),
    );
  const coarse = gap(4);
  const fine = gap(256);
  assert.ok(fine < 1e-3 * Math.max(1, Math.abs(fx - f0)), `completeness gap ${fine}`);
  assert.ok(fine < coarse, `gap shrinks with steps: ${coarse} → ${fine}`);
});

test("occlusion is f(x) − f(x with [UNK] at t), for every position", () => {
  const m = float64(tinyModel("distilbert", 3));
  const inp = input(m, 1);
  const got = getMethod("occlusion").run(inp).attributions;
  const f = (ids: number[]) => noGrad(() => m.forward(makeBatch([{ ids }], 0))).data[1]!;
  IDS.forEach((_, t) => {
    const occluded = IDS.map((id, s) => (s === t ? 1 : id));
    assert.ok(Math.abs(got[t]! - (f(IDS) - f(occluded))) < 1e-12);
  });
});

for (const type of ["bert", "xai-transformer", "roberta", "distilbert"] as const) {
  test(`${type}: all ${METHOD_IDS.length} methods run through explain() with one score per token`, () => {
    const m = tinyModel(type, 2);
    const r = explain(m, "good movie !", { methods: [...METHOD_IDS], steps: 8 });
    assert.equal(r.tokens.length, r.ids.length);
    for (const id of METHOD_IDS) {
      const e = r.explanations[id]!;
      assert.equal(e.attributions.length, r.tokens.length, id);
      assert.ok(e.attributions.every(Number.isFinite), id);
      assert.equal(e.logit, r.logits[r.target]);
    }
    assert.equal(r.target, r.predicted);
  });
}

test("explain: target by label or index; out of range and unknown methods are usage errors", () => {
  const m = tinyModel("bert", 2);
  assert.equal(explain(m, "good", { target: "negative" }).target, 0);
  assert.equal(explain(m, "good", { target: 1 }).label, "POSITIVE");
  assert.throws(() => explain(m, "good", { target: 5 }), /target 5 is out of range: the model has 2 classes/);
  assert.throws(
    () => explain(m, "good", { methods: ["lrp", "shap"] }),
    /unknown method 'shap' \(valid: lrp, lrp-ah/,
  );
  assert.throws(() => explain(m, "   "), /empty text/);
});

test("random is reproducible for a seed and differs across seeds", () => {
  const m = tinyModel("bert", 2);
  const a = explain(m, "good movie", { methods: ["random"], seed: 3 }).explanations.random!.attributions;
  const b = explain(m, "good movie", { methods: ["random"], seed: 3 }).explanations.random!.attributions;
  const c = explain(m, "good movie", { methods: ["random"], seed: 4 }).explanations.random!.attributions;
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

for (const type of ["bert", "xai-transformer"] as const) {
  test(`${type}: explainMany batches texts and gives the same result as one by one`, () => {
    const m = tinyModel(type, 9);
    const texts = ["good movie !", "bad", "not very good film .", "the film", "a bad movie"];
    const methods = ["lrp", "gi", "saliency", "attnlrp", "rollout"];
    const many = explainMany(m, texts, { methods });
    texts.forEach((t, i) => {
      const one = explain(m, t, { methods });
      assert.deepEqual(many[i]!.tokens, one.tokens);
      assert.equal(many[i]!.target, one.target);
      for (const id of methods) {
        const a = many[i]!.explanations[id]!;
        const b = one.explanations[id]!;
        a.attributions.forEach((v, k) =>
          assert.ok(
            Math.abs(v - b.attributions[k]!) < 1e-5,
            `${t} ${id}[${k}]: ${v} vs ${b.attributions[k]}`,
          ),
        );
        assert.equal(a.layers?.length, b.layers?.length);
      }
    });
  });
}

test("method lists: ids in order, 'all', '-id' leaves one out, unknown ids and empty lists refused", () => {
  assert.deepEqual(parseMethods("gi, lrp,gi"), ["gi", "lrp"]);
  assert.deepEqual(parseMethods("all"), [...METHOD_IDS]);
  assert.deepEqual(
    parseMethods("all,-attention-flow,-occlusion"),
    METHOD_IDS.filter((id) => id !== "attention-flow" && id !== "occlusion"),
  );
  assert.throws(() => parseMethods("all,-nope"), /unknown method 'nope'/);
  assert.throws(() => parseMethods("lrp,-lrp"), /no method given/);
  assert.throws(() => parseMethods(" , "), /no method given/);
});
