import { test } from "node:test";
import assert from "node:assert/strict";
import * as T from "../src/tensor/index.js";
import { Random, Tensor } from "../src/tensor/index.js";
import { XaitError } from "../src/errors.js";
import { gradcheck, randomTensor } from "./helpers/gradcheck.js";

const rng = new Random(11);
const r = (...shape: number[]) => randomTensor(shape, rng).requireGrad();
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what = "") => {
  assert.equal(a.length, b.length, `${what} lengths`);
  for (let i = 0; i < a.length; i++)
    assert.ok(
      Math.abs(a[i]! - b[i]!) <= tol * Math.max(1, Math.abs(b[i]!)),
      `${what} index ${i}: ${a[i]} vs ${b[i]}`,
    );
};
const f32 = (t: Tensor) => Tensor.fromArray(t.data, t.shape, "float32");
const throwsXait = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof XaitError && pattern.test(e.message));

/** y = x / √(mean(x²) + eps) · w, written as a direct loop over rows. */
function rmsNormLoop(x: Tensor, w: Tensor | null, eps: number): number[] {
  const cols = x.dim(-1);
  const out: number[] = [];
  for (let row = 0; row < x.size / cols; row++) {
    const v = Array.from(x.data.subarray(row * cols, (row + 1) * cols));
    const ms = v.reduce((s, a) => s + a * a, 0) / cols;
    v.forEach((a, j) => out.push((a / Math.sqrt(ms + eps)) * (w ? w.data[j]! : 1)));
  }
  return out;
}

test("rmsNorm: forward equals a direct loop; gradients to x and weight match finite differences", () => {
  const x = r(2, 3, 5);
  const w = r(5);
  close(T.rmsNorm(x, w, { eps: 1e-6 }).data, rmsNormLoop(x, w, 1e-6), 1e-14, "affine");
  close(T.rmsNorm(x, null, { eps: 0.1 }).data, rmsNormLoop(x, null, 0.1), 1e-14, "no weight");
  gradcheck(([a, b]) => T.rmsNorm(a!, b!, { eps: 1e-6 }), [x, w]);
  gradcheck(([a]) => T.rmsNorm(a!, null, { eps: 1e-2 }), [r(4, 6)]);
});

test("rmsNorm constantScale: same forward, backward to x is exactly g·w·r, weight gradient unchanged", () => {
  const x = r(3, 4);
  const w = r(4);
  const eps = 1e-5;
  const plain = T.rmsNorm(x, w, { eps });
  const held = T.rmsNorm(x, w, { eps, constantScale: true });
  assert.deepEqual(Array.from(held.data), Array.from(plain.data));

  const g = randomTensor([3, 4], rng).data;
  x.grad = null;
  w.grad = null;
  held.backward(g);
  const heldGrad = Array.from(x.grad!);
  for (let row = 0; row < 3; row++) {
    let ss = 0;
    for (let j = 0; j < 4; j++) ss += x.data[row * 4 + j]! ** 2;
    const rr = 1 / Math.sqrt(ss / 4 + eps);
    let inRelevance = 0;
    let outRelevance = 0;
    for (let j = 0; j < 4; j++) {
      const i = row * 4 + j;
      assert.equal(x.grad![i], g[i]! * w.data[j]! * rr);
      inRelevance += x.data[i]! * x.grad![i]!;
      outRelevance += held.data[i]! * g[i]!;
    }
    // the LN-rule conserves relevance: Σ x ⊙ ∂/∂x = Σ y ⊙ g per row
    assert.ok(Math.abs(inRelevance - outRelevance) <= 1e-12 * Math.max(1, Math.abs(outRelevance)));
  }
  // the true gradient differs from the held one (the rule changes something)
  x.grad = null;
  plain.backward(g);
  const gap = Math.max(...Array.from(x.grad!, (v, i) => Math.abs(v - heldGrad[i]!)));
  assert.ok(gap > 1e-3, `true and held gradients differ by only ${gap}`);
  // the weight's gradient does not involve ∂r/∂x: still the exact gradient
  gradcheck(([b]) => T.rmsNorm(x.detach(), b!, { eps, constantScale: true }), [w]);
});

test("sigmoid and silu: reference values and finite-difference gradients", () => {
  const x = Tensor.fromArray([0, 1, -2, 30, -800], [5], "float64");
  const s = [0.5, 0.7310585786300049, 0.11920292202211755, 1 - 9.357622968840175e-14, 0];
  close(T.sigmoid(x).data, s, 1e-15, "sigmoid");
  close(
    T.silu(x).data,
    s.map((v, i) => v * x.data[i]!),
    1e-15,
    "silu",
  );
  gradcheck(([v]) => T.silu(v!), [r(3, 7)]);
  gradcheck(([v]) => T.sigmoid(v!), [r(3, 7)]);
  // large magnitudes: derivative of silu → 1 for x → ∞, → 0 for x → −∞, ½ at 0
  const big = Tensor.fromArray([40, -40, 0], [3], "float64").requireGrad();
  T.silu(big).backward();
  close(big.grad!, [1, 0, 0.5], 1e-12, "silu′");
});

/** HF: inv_freq = 1 / theta^(arange(0, dh, 2)/dh); pair (i, i+dh/2) rotated by [[c, −s], [s, c]]. */
function rotaryByPairs(x: Tensor, positions: number[], theta: number): number[] {
  const [batch, heads, seq, dh] = x.shape as [number, number, number, number];
  const out = new Array<number>(x.size);
  for (let b = 0; b < batch; b++)
    for (let h = 0; h < heads; h++)
      for (let t = 0; t < seq; t++)
        for (let i = 0; i < dh / 2; i++) {
          const angle = positions[b * seq + t]! / theta ** ((2 * i) / dh);
          const m = [
            [Math.cos(angle), -Math.sin(angle)],
            [Math.sin(angle), Math.cos(angle)],
          ];
          const base = ((b * heads + h) * seq + t) * dh;
          const v = [x.data[base + i]!, x.data[base + i + dh / 2]!];
          out[base + i] = m[0]![0]! * v[0]! + m[0]![1]! * v[1]!;
          out[base + i + dh / 2] = m[1]![0]! * v[0]! + m[1]![1]! * v[1]!;
        }
  return out;
}

test("rotary: equals the per-pair 2×2 rotation, keeps pair norms, is the identity at position 0", () => {
  const x = r(2, 3, 4, 8);
  const positions = [0, 1, 2, 3, 5, 7, 11, 100];
  const y = T.rotary(x, positions, 10000);
  close(y.data, rotaryByPairs(x, positions, 10000), 1e-13, "rotation");
  const dh = 8;
  for (let row = 0; row < x.size / dh; row++)
    for (let i = 0; i < dh / 2; i++) {
      const a = row * dh + i;
      const b = a + dh / 2;
      const before = Math.hypot(x.data[a]!, x.data[b]!);
      const after = Math.hypot(y.data[a]!, y.data[b]!);
      assert.ok(Math.abs(before - after) <= 1e-13 * Math.max(1, before), `pair norm at ${a}`);
    }
  const atZero = T.rotary(x, new Array<number>(8).fill(0), 500000);
  assert.deepEqual(Array.from(atZero.data), Array.from(x.data));
  gradcheck(([v]) => T.rotary(v!, positions, 10000), [x]);
  gradcheck(([v]) => T.rotary(v!, [4, 9, 2], 10), [r(1, 2, 3, 6)]);
});

test("rotary: the dot product of rotated q and k depends only on the offset m − n", () => {
  const q = randomTensor([1, 1, 1, 16], rng);
  const k = randomTensor([1, 1, 1, 16], rng);
  const dot = (m: number, n: number) => {
    const a = T.rotary(q, [m], 10000).data;
    const b = T.rotary(k, [n], 10000).data;
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
    return s;
  };
  for (const offset of [3, -5]) {
    const ref = dot(20 + offset, 20);
    for (const n of [0, 7, 131]) {
      const d = dot(n + offset, n);
      assert.ok(Math.abs(d - ref) <= 1e-12 * Math.max(1, Math.abs(ref)), `offset ${offset}, n ${n}`);
    }
  }
  // and it does depend on the offset
  assert.ok(Math.abs(dot(23, 20) - dot(15, 20)) > 1e-6);
});

test("repeatHeads: HF repeat_kv index rule, group-summed gradients, identity for one group", () => {
  const x = r(2, 3, 2, 4);
  const groups = 2;
  const y = T.repeatHeads(x, groups);
  assert.deepEqual(y.shape, [2, 6, 2, 4]);
  // repeat_kv: x[:, :, None].expand(B, kvH, n_rep, T, dh).reshape(B, kvH·n_rep, T, dh)
  for (let b = 0; b < 2; b++)
    for (let kv = 0; kv < 3; kv++)
      for (let rep = 0; rep < groups; rep++)
        for (let t = 0; t < 2; t++)
          for (let d = 0; d < 4; d++)
            assert.equal(
              y.data[((b * 6 + kv * groups + rep) * 2 + t) * 4 + d],
              x.data[((b * 3 + kv) * 2 + t) * 4 + d],
            );
  gradcheck(([v]) => T.repeatHeads(v!, 3), [r(2, 2, 3, 2)]);
  assert.equal(T.repeatHeads(x, 1), x);
  throwsXait(() => T.repeatHeads(x, 0), /repeatHeads: groups 0/);
  throwsXait(() => T.repeatHeads(r(2, 3, 4), 2), /repeatHeads: input \[2,3,4\]/);
});

test("rowsAt: picks x[b, positions[b]], scatters its gradient, refuses positions outside [0, T)", () => {
  const x = r(3, 4, 5);
  const positions = [2, 0, 3];
  const y = T.rowsAt(x, positions);
  assert.deepEqual(y.shape, [3, 5]);
  for (let b = 0; b < 3; b++)
    for (let d = 0; d < 5; d++) assert.equal(y.data[b * 5 + d], x.data[(b * 4 + positions[b]!) * 5 + d]);
  gradcheck(([v]) => T.rowsAt(v!, positions), [x]);
  throwsXait(() => T.rowsAt(x, [0, 4, 1]), /rowsAt: position 4 of row 1 is outside \[0, 4\)/);
  throwsXait(() => T.rowsAt(x, [0, -1, 1]), /position -1/);
  throwsXait(() => T.rowsAt(x, [0, 1.5, 1]), /position 1.5/);
  throwsXait(() => T.rowsAt(x, [0, 1]), /rowsAt: 2 positions do not fit input \[3,4,5\]/);
});

test("causalMask: causal and padding entries of a padded batch; a query with no real key keeps key 0", () => {
  const M = -1e9;
  const right = T.causalMask(2, 3, Uint8Array.from([1, 1, 1, 1, 1, 0]));
  assert.deepEqual(right.shape, [2, 1, 3, 3]);
  assert.equal(right.dtype, "float32");
  const m = Math.fround(M);
  assert.deepEqual(Array.from(right.data), [
    // row 0: no padding — lower triangle
    0, m, m,
    0, 0, m,
    0, 0, 0,
    // row 1: token 2 is padding — no query attends it
    0, m, m,
    0, 0, m,
    0, 0, m,
  ]); // prettier-ignore
  assert.equal(right.requiresGrad, false);
  // left padding: query 0 has no allowed key, so key 0 stays allowed
  const left = T.causalMask(1, 3, Uint8Array.from([0, 1, 1]));
  assert.deepEqual(Array.from(left.data), [
    0, m, m,
    m, 0, m,
    m, 0, 0,
  ]); // prettier-ignore
  assert.deepEqual(Array.from(T.causalMask(1, 2).data), [0, m, 0, 0]);
  throwsXait(() => T.causalMask(2, 3, new Uint8Array(5)), /causalMask: padding mask has 5 entries/);
  throwsXait(() => T.causalMask(0, 3), /causalMask: batch 0/);
  // each query's softmax over the masked scores is a distribution over its allowed keys only
  const p = T.softmax(T.Tensor.zeros([1, 1, 3, 3]), { mask: left });
  assert.deepEqual(
    Array.from(p.data, (v) => Math.round(v * 1e6) / 1e6),
    [1, 0, 0, 0, 1, 0, 0, 0.5, 0.5],
  );
});

test("shape checks name the op and the shapes", () => {
  throwsXait(
    () => T.rmsNorm(r(2, 4), r(3), { eps: 1e-6 }),
    /rmsNorm: weight \[3\] does not fit input \[2,4\]/,
  );
  throwsXait(() => T.rotary(r(1, 1, 2, 3), [0, 1], 1e4), /rotary: input \[1,1,2,3\]/);
  throwsXait(() => T.rotary(r(1, 1, 2, 4), [0], 1e4), /rotary: 1 positions do not fit input \[1,1,2,4\]/);
  throwsXait(() => T.rotary(r(1, 1, 1, 4), [NaN], 1e4), /rotary: position NaN/);
  throwsXait(() => T.rotary(r(1, 1, 1, 4), [0], 0), /rotary: theta 0/);
});

test("float32 inputs give float32 outputs equal to the float64 forward within 1e-5", () => {
  const x = randomTensor([2, 3, 4, 6], rng);
  const w = randomTensor([6], rng);
  const positions = [0, 1, 2, 3, 9, 40, 41, 42];
  const pairs: [string, (v: Tensor, w: Tensor) => Tensor][] = [
    ["rmsNorm", (v, ww) => T.rmsNorm(v, ww, { eps: 1e-6 })],
    ["silu", (v) => T.silu(v)],
    ["sigmoid", (v) => T.sigmoid(v)],
    ["rotary", (v) => T.rotary(v, positions, 10000)], // B·T = 2·4 positions
    ["repeatHeads", (v) => T.repeatHeads(v, 2)],
    ["rowsAt", (v) => T.rowsAt(T.reshape(v, [2, 12, 6]), [11, 4])],
  ];
  for (const [name, op] of pairs) {
    const y64 = op(x, w);
    const y32 = op(f32(x), f32(w));
    assert.equal(y32.dtype, "float32", name);
    assert.equal(y64.dtype, "float64", name);
    close(y32.data, y64.data, 1e-5, name);
  }
  // float32 gradients flow too (and agree with float64 to float tolerance)
  const a64 = x.detach().requireGrad();
  const a32 = f32(x).requireGrad();
  const w32 = f32(w).requireGrad();
  const w64 = w.detach().requireGrad();
  T.sum(T.silu(T.rotary(T.rmsNorm(a64, w64, { eps: 1e-6 }), positions, 1e4))).backward();
  T.sum(T.silu(T.rotary(T.rmsNorm(a32, w32, { eps: 1e-6 }), positions, 1e4))).backward();
  assert.ok(a32.grad instanceof Float32Array && w32.grad instanceof Float32Array);
  close(a32.grad, a64.grad!, 1e-4, "∂x");
  close(w32.grad, w64.grad!, 1e-4, "∂w");
});
