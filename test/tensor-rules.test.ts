import { test } from "node:test";
import assert from "node:assert/strict";
import * as T from "../src/tensor/index.js";
import { Tensor } from "../src/tensor/index.js";
import { erf } from "../src/tensor/special.js";
import { gradcheck } from "./helpers/gradcheck.js";

const f64 = (v: number[], shape?: number[]) => Tensor.fromArray(v, shape, "float64");
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-12) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `index ${i}: ${a[i]} vs ${b[i]}`);
};

test("gradcheck itself rejects a wrong backward", () => {
  const wrong = (x: Tensor) =>
    T.result(x.data.slice(), x.shape, [x], (g) =>
      T.addGrad(
        x,
        g.map((v) => 2 * v),
      ),
    );
  assert.throws(() => gradcheck(([x]) => wrong(x!), [f64([1, 2, 3]).requireGrad()]), /analytic/);
});

test("erf matches reference values", () => {
  const cases: [number, number][] = [
    [0, 0],
    [0.3, 0.3286267594591112],
    [1, 0.8427007929497149],
    [-2, -0.9953222650189527],
    [3.5, 0.9999992569016276],
    [5, 0.9999999999984626],
  ];
  for (const [x, v] of cases) assert.ok(Math.abs(erf(x) - v) < 1e-13, `erf(${x}) = ${erf(x)}, want ${v}`);
});

test("detach: same values, no gradient flows", () => {
  const x = f64([1, 2]).requireGrad();
  const y = T.add(T.mul(x, x), T.mul(x, x).detach());
  T.sum(y).backward();
  close(x.grad!, [2, 4]); // only the attached x² contributes 2x
});

test("identity rule: backward multiplies by act(z)/z; value unchanged; z = 0 uses the limit", () => {
  const z = f64([2, -1, 0]).requireGrad();
  const y = T.identityRule(z, (t) => T.gelu(t, "erf"), 0.5);
  const ref = T.gelu(f64([2, -1, 0]), "erf");
  close(y.data, ref.data);
  T.sum(T.mul(y, f64([1, 3, 5]))).backward();
  close(z.grad!, [(1 * ref.data[0]!) / 2, (3 * ref.data[1]!) / -1, 5 * 0.5]);
  // so z ⊙ ∂f/∂z = y ⊙ ∂f/∂y: relevance passes unchanged
  close([2 * z.grad![0]!, -1 * z.grad![1]!], [ref.data[0]! * 1, ref.data[1]! * 3]);
});

test("uniform rule divides the gradient by k", () => {
  const x = f64([1, 2, 3]).requireGrad();
  T.sum(T.uniform(x, 2)).backward();
  close(x.grad!, [0.5, 0.5, 0.5]);
});

test("LRP-γ linear: forward unchanged; backward through W + γW⁺ rescaled by z/z⁺ (hand-worked)", () => {
  // x = [1, 2]; W = [[1, -1], [2, 0.5]] ([out, in]); b = [0.5, -1]; γ = 0.25
  const x = f64([1, 2], [1, 2]).requireGrad();
  const W = f64([1, -1, 2, 0.5], [2, 2]);
  const b = f64([0.5, -1]);
  const y = T.gammaLinear(x, W, b, 0.25);
  close(y.data, [1 - 2 + 0.5, 2 + 1 - 1]); // z = [-0.5, 2]
  // W⁺-version: [[1.25, -1], [2.5, 0.625]], b⁺ = [0.625, -1]; z⁺ = [1.25 - 2 + 0.625, 2.5 + 1.25 - 1] = [-0.125, 2.75]
  // with upstream gradient g = [1, 1]: s = g ⊙ z/z⁺ = [4, 2/2.75]; grad x = s · W⁺
  const s = [4, 2 / 2.75];
  T.sum(y).backward();
  close(x.grad!, [s[0]! * 1.25 + s[1]! * 2.5, s[0]! * -1 + s[1]! * 0.625], 1e-12);
});

test("LRP-γ with γ = 0 is the plain gradient (LRP-0)", () => {
  const x = f64([0.3, -1.2, 2], [1, 3]).requireGrad();
  const W = f64([1, -2, 0.5, 0.25, 1, -1], [2, 3]);
  const b = f64([0.1, 0.2]);
  T.sum(T.gammaLinear(x, W, b, 0)).backward();
  close(x.grad!, [1.25, -1, -0.5], 1e-12);
});

test("softmax with constant probabilities passes no gradient to the scores (AH-rule)", () => {
  const s = f64([1, 2, 3]).requireGrad();
  const p = T.softmax(s, { constant: true });
  assert.equal(p.requiresGrad, false);
  const v = f64([1, 1, 1]).requireGrad();
  T.sum(T.mul(p, v)).backward();
  assert.equal(s.grad, null);
  close(v.grad!, p.data);
});

test("LayerNorm forms: values of the bert and paper forms", () => {
  const x = f64([1, 2, 3, 6], [1, 4]);
  const mu = 3;
  const ss = 4 + 1 + 0 + 9;
  const bert = T.layerNorm(x, null, null, { eps: 1e-5, form: "bert" });
  close(
    bert.data,
    [1, 2, 3, 6].map((v) => (v - mu) / Math.sqrt(ss / 4 + 1e-5)),
  );
  const paper = T.layerNorm(x, null, null, { eps: 1e-5, form: "paper" });
  close(
    paper.data,
    [1, 2, 3, 6].map((v) => (v - mu) / (Math.sqrt(ss / 3) + 1e-5)),
  );
});

test("LN-rule: with the std constant LayerNorm's backward is the centring map / σ′", () => {
  const x = f64([1, 2, 3, 6], [1, 4]).requireGrad();
  const y = T.layerNorm(x, null, null, { eps: 1e-5, form: "paper", constantStd: true });
  const g = [1, 0, -2, 0.5];
  T.sum(T.mul(y, f64(g, [1, 4]))).backward();
  const d = Math.sqrt(14 / 3) + 1e-5;
  const gm = g.reduce((a, b) => a + b) / 4;
  close(
    x.grad!,
    g.map((v) => (v - gm) / d),
  );
  // and the relevance x ⊙ grad sums to y ⊙ g (conservation; x centred here has mean 3, Σ(x−μ)·… )
  const rIn = [1, 2, 3, 6].reduce((s, v, i) => s + (v - 3) * x.grad![i]!, 0);
  const rOut = Array.from(y.data).reduce((s, v, i) => s + v * g[i]!, 0);
  assert.ok(Math.abs(rIn - rOut) < 1e-9);
});

test("shape errors name both shapes", () => {
  assert.throws(() => T.matmul(Tensor.zeros([2, 3]), Tensor.zeros([4, 5])), /\[2,3\].*\[4,5\]/);
  assert.throws(() => T.add(Tensor.zeros([2, 3]), Tensor.zeros([4])), /\[2,3\] and \[4\]/);
  assert.throws(() => T.linear(Tensor.zeros([2, 3]), Tensor.zeros([4, 5]), null), /\[2,3\].*\[4,5\]/);
  assert.throws(() => T.reshape(Tensor.zeros([2, 3]), [4, 2]), /\[2,3\] as \[4,2\]/);
  assert.throws(() => T.concat([Tensor.zeros([2, 3]), Tensor.zeros([3, 3])], 1), /\[2,3\] and \[3,3\]/);
});
