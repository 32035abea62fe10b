import { test } from "node:test";
import assert from "node:assert/strict";
import { ppmiSvdEmbeddings, symmetricEigen } from "../src/train/embeddings.js";
import { Random } from "../src/tensor/index.js";

test("Jacobi eigen-decomposition: A·v = λ·v for a random symmetric matrix", () => {
  const n = 6;
  const rng = new Random(2);
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) A[i * n + j] = A[j * n + i] = rng.normal();
  const { values, vectors } = symmetricEigen(A, n);
  for (let e = 0; e < n; e++)
    for (let i = 0; i < n; i++) {
      let av = 0;
      for (let j = 0; j < n; j++) av += A[i * n + j]! * vectors[j * n + e]!;
      assert.ok(Math.abs(av - values[e]! * vectors[i * n + e]!) < 1e-9);
    }
});

test("PPMI-SVD vectors: words used in the same contexts get similar vectors, unseen ids stay zero", () => {
  // ids: 0 unused; 1,2 interchangeable ("good"/"great"); 3,4 interchangeable ("bad"/"awful"); contexts 5-8 and 9-12
  const rng = new Random(5);
  const seqs: number[][] = [];
  for (let s = 0; s < 400; s++) {
    const pos = rng.next() < 0.5;
    const word = pos ? 1 + rng.int(2) : 3 + rng.int(2);
    const ctx = () => (pos ? 5 : 9) + rng.int(4);
    seqs.push([ctx(), ctx(), word, ctx(), ctx()]);
  }
  const dim = 4;
  const E = ppmiSvdEmbeddings(seqs, 13, { dim, seed: 1 });
  const v = (i: number) => E.subarray(i * dim, (i + 1) * dim);
  const cos = (a: Float32Array, b: Float32Array) => {
    let d = 0;
    let na = 0;
    let nb = 0;
    for (let i = 0; i < dim; i++) {
      d += a[i]! * b[i]!;
      na += a[i]! ** 2;
      nb += b[i]! ** 2;
    }
    return d / Math.sqrt(na * nb);
  };
  assert.ok(cos(v(1), v(2)) > 0.9, `good/great ${cos(v(1), v(2))}`);
  assert.ok(cos(v(3), v(4)) > 0.9, `bad/awful ${cos(v(3), v(4))}`);
  assert.ok(cos(v(1), v(3)) < 0.5, `good/bad ${cos(v(1), v(3))}`);
  assert.ok(v(0).every((x) => x === 0));
});
