import { test } from "node:test";
import assert from "node:assert/strict";
import * as T from "../src/tensor/index.js";
import { Random, Tensor } from "../src/tensor/index.js";
import { gradcheck, randomTensor } from "./helpers/gradcheck.js";

const rng = new Random(1);
const r = (...shape: number[]) => randomTensor(shape, rng).requireGrad();

test("add/sub/mul/div with broadcasting", () => {
  gradcheck(([a, b]) => T.add(a!, b!), [r(2, 3, 4), r(4)]);
  gradcheck(([a, b]) => T.sub(a!, b!), [r(2, 1, 4), r(3, 1)]);
  gradcheck(([a, b]) => T.mul(a!, b!), [r(2, 3, 4), r(2, 1, 4)]);
  const denom = randomTensor([3, 1], rng);
  for (let i = 0; i < denom.size; i++) denom.data[i] = 1.5 + Math.abs(denom.data[i]!);
  gradcheck(([a, b]) => T.div(a!, b!), [r(3, 5), denom.requireGrad()]);
  gradcheck(([a]) => T.scale(a!, -2.5), [r(3, 2)]);
});

test("matmul: all transpose cases, batched and with a shared 2-D operand", () => {
  for (const transA of [false, true])
    for (const transB of [false, true]) {
      const a = transA ? r(4, 3) : r(3, 4);
      const b = transB ? r(5, 4) : r(4, 5);
      gradcheck(([x, y]) => T.matmul(x!, y!, { transA, transB }), [a, b]);
      const ab = transA ? r(2, 4, 3) : r(2, 3, 4);
      const bb = transB ? r(2, 5, 4) : r(2, 4, 5);
      gradcheck(([x, y]) => T.matmul(x!, y!, { transA, transB }), [ab, bb]);
      gradcheck(
        ([x, y]) => T.matmul(x!, y!, { transA, transB }),
        [transA ? r(2, 2, 4, 3) : r(2, 2, 3, 4), b.detach().requireGrad()],
      );
    }
});

test("linear layer with and without bias", () => {
  gradcheck(([x, w, b]) => T.linear(x!, w!, b!), [r(2, 3, 4), r(5, 4), r(5)]);
  gradcheck(([x, w]) => T.linear(x!, w!, null), [r(3, 4), r(2, 4)]);
});

test("reshape, permute, transpose, slice, concat", () => {
  gradcheck(([x]) => T.reshape(x!, [3, -1]), [r(2, 3, 2)]);
  gradcheck(([x]) => T.permute(x!, [2, 0, 1]), [r(2, 3, 4)]);
  gradcheck(([x]) => T.transpose(x!, 0, 2), [r(2, 3, 4)]);
  gradcheck(([x]) => T.permute(x!, [0, 2, 1, 3]), [r(2, 3, 2, 4)]); // last dimension kept: runs copied
  const x = r(2, 3, 2, 4);
  const p = T.permute(x, [0, 2, 1, 3]);
  for (let a = 0; a < 2; a++)
    for (let b = 0; b < 3; b++)
      for (let c = 0; c < 2; c++)
        for (let d = 0; d < 4; d++)
          assert.equal(p.data[((a * 2 + c) * 3 + b) * 4 + d], x.data[((a * 3 + b) * 2 + c) * 4 + d]);
  gradcheck(([x]) => T.slice(x!, 1, 1, 3), [r(2, 4, 3)]);
  gradcheck(([a, b]) => T.concat([a!, b!], 1), [r(2, 1, 3), r(2, 2, 3)]);
});

test("gather scatters its gradient into the rows read (repeated ids add up)", () => {
  gradcheck(([t]) => T.gather(t!, [2, 0, 2, 1], [2, 2]), [r(4, 3)]);
});

test("sum, mean, max over an axis", () => {
  gradcheck(([x]) => T.sum(x!, 1), [r(2, 3, 4)]);
  gradcheck(([x]) => T.sum(x!), [r(2, 3)]);
  gradcheck(([x]) => T.mean(x!, -1, true), [r(2, 3, 4)]);
  gradcheck(([x]) => T.mean(x!), [r(5)]);
  gradcheck(([x]) => T.max(x!, 0), [r(3, 4)]);
});

test("softmax with an additive mask, log-softmax, cross-entropy", () => {
  const mask = Tensor.fromArray([0, 0, -1e9, 0], [1, 4], "float64");
  gradcheck(([x]) => T.softmax(x!, { mask }), [r(2, 3, 4)]);
  gradcheck(([x]) => T.softmax(x!), [r(3, 5)]);
  gradcheck(([x]) => T.logSoftmax(x!), [r(3, 5)]);
  gradcheck(([x]) => T.crossEntropy(x!, [1, 0, 2]), [r(3, 4)]);
});

test("both LayerNorm forms (affine bert form, paper form)", () => {
  gradcheck(([x, w, b]) => T.layerNorm(x!, w!, b!, { eps: 1e-5, form: "bert" }), [r(2, 3, 6), r(6), r(6)]);
  gradcheck(([x]) => T.layerNorm(x!, null, null, { eps: 1e-5, form: "paper" }), [r(3, 6)]);
  gradcheck(([x, w]) => T.layerNorm(x!, w!, null, { eps: 1e-3, form: "paper" }), [r(3, 5), r(5)]);
});

test("activations: GELU (erf, tanh), tanh, ReLU, exp", () => {
  gradcheck(([x]) => T.gelu(x!, "erf"), [r(3, 7)]);
  gradcheck(([x]) => T.gelu(x!, "tanh"), [r(3, 7)]);
  gradcheck(([x]) => T.tanh(x!), [r(3, 4)]);
  const x = r(3, 4);
  for (let i = 0; i < x.size; i++) if (Math.abs(x.data[i]!) < 0.01) x.data[i] = 0.5; // away from the kink
  gradcheck(([v]) => T.relu(v!), [x]);
  gradcheck(([v]) => T.exp(v!), [r(2, 3)]);
});

test("dropout: seeded, identity at p = 0, gradient uses the same mask", () => {
  const x = r(4, 5);
  assert.equal(T.dropout(x, 0, new Random(3)), x);
  gradcheck(([v]) => T.dropout(v!, 0.3, new Random(3)), [x]);
  const a = T.dropout(x, 0.5, new Random(9)).toArray();
  const b = T.dropout(x, 0.5, new Random(9)).toArray();
  assert.deepEqual(a, b);
  assert.ok(a.some((v) => v === 0));
  // the mask is exactly one next() draw per element, and the generator continues after them
  const g = new Random(9);
  const expected = Array.from(x.data, (v) => (g.next() < 0.5 ? v * 0 : v * 2));
  const h = new Random(9);
  assert.deepEqual(Array.from(T.dropout(x, 0.5, h).data), expected);
  assert.equal(h.next(), g.next());
});

test("a composite graph (shared inputs, several paths) matches finite differences", () => {
  gradcheck(
    ([x, w]) => {
      const h = T.tanh(T.linear(x!, w!, null));
      return T.add(T.mul(h, h), T.layerNorm(h, null, null, { eps: 1e-5, form: "bert" }));
    },
    [r(3, 4), r(4, 4)],
  );
});

test("no gradient bookkeeping when nothing requires a gradient, or under noGrad", () => {
  const a = randomTensor([2, 2], rng);
  assert.equal(T.add(a, a).node, null);
  const b = r(2, 2);
  assert.equal(T.noGrad(() => T.mul(b, b)).node, null);
  assert.notEqual(T.mul(b, b).node, null);
});
