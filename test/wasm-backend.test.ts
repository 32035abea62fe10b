/**
 * The wasm backend against the js reference, with thresholds forced to zero so that every call — odd
 * shapes included — runs the WebAssembly kernels, on one thread and on two.
 *
 * Tolerances:
 *  - GEMM: max|wasm − js| / max|js| ≤ 1e-5 over the whole C (float32 products summed in blocks
 *    against the reference's float64 sums).
 *  - everything else, element by element: |wasm − js| ≤ 1e-6 · (|js| + 0.1 · max|js|), i.e. 1e-6
 *    relative with an absolute floor of 1e-7 of the output's scale (where outputs cancel to near zero,
 *    as GELU′ does near x ≈ −0.75, only absolute accuracy is meaningful).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  getBackend,
  type Backend,
  type FloatArray,
  type GemmArgs,
  type GeluForm,
} from "../src/tensor/backend.js";
import { backendInfo, benchGemm, disposeBackend, initBackend } from "../src/tensor/backends.js";
import { jsBackend } from "../src/tensor/js-backend.js";
import { createNodeWasmBackend } from "../src/tensor/wasm-node.js";
import { FORCE_WASM, type WasmBackend } from "../src/tensor/wasm/wasm-backend.js";

const ODD = [1, 3, 17, 65, 127];

/** Seeded uniform numbers in [−1, 1) (a linear congruential generator: reproducible, independent). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2147483648 - 1;
  };
}

function randomArray(n: number, next: () => number, scale = 1, shift = 0): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = next() * scale + shift;
  return a;
}

function maxAbs(a: FloatArray): number {
  let m = 0;
  for (const v of a) if (Number.isFinite(v)) m = Math.max(m, Math.abs(v));
  return m;
}

function assertNormwise(actual: FloatArray, expected: FloatArray, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let diff = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (Number.isNaN(d) && !(Number.isNaN(actual[i]!) && Number.isNaN(expected[i]!)))
      assert.fail(`${what}: NaN at ${i}`);
    if (d > diff) diff = d;
  }
  const scale = maxAbs(expected) || 1;
  assert.ok(diff / scale <= tol, `${what}: max|diff|/max|ref| = ${(diff / scale).toExponential(2)} > ${tol}`);
}

function assertElementwise(actual: FloatArray, expected: FloatArray, what: string, rel = 1e-6): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const floor = 0.1 * maxAbs(expected);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e))) continue;
    const tol = rel * (Math.abs(e) + floor);
    assert.ok(
      Math.abs(a - e) <= tol,
      `${what}[${i}]: wasm ${a} vs js ${e} (tolerance ${tol.toExponential(2)})`,
    );
  }
}

interface GemmCase {
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  accumulate: boolean;
  batch?: number;
  strideA?: number;
  strideB?: number;
  strideC?: number;
  offsetA?: number;
  offsetB?: number;
  offsetC?: number;
  /** A bias added to every row of C (fused). */
  bias?: boolean;
  /** A and B (and the bias) resident in the backend's memory, read in place. */
  resident?: boolean;
}

/** `x` copied into the backend's resident memory (asserting it got some). */
function residentCopy(backend: Backend, x: Float32Array): Float32Array {
  const r = backend.allocate?.(x.length) ?? null;
  assert.ok(r, "the backend hands out resident arrays");
  assert.ok(
    r.every((v) => v === 0),
    "a resident array starts zeroed",
  );
  r.set(x);
  return r;
}

function checkGemm(backend: Backend, c: GemmCase, seed: number): void {
  const next = rng(seed);
  const batch = c.batch ?? 1;
  const sa = c.strideA ?? c.m * c.k;
  const sb = c.strideB ?? c.k * c.n;
  const sc = c.strideC ?? c.m * c.n;
  const oa = c.offsetA ?? 0;
  const ob = c.offsetB ?? 0;
  const oc = c.offsetC ?? 0;
  let a = randomArray(oa + (batch - 1) * sa + c.m * c.k + 5, next);
  let b = randomArray(ob + (batch - 1) * sb + c.k * c.n + 5, next);
  const c0 = randomArray(oc + (batch - 1) * Math.max(sc, 0) + c.m * c.n + 5, next);
  let bias = c.bias ? randomArray(c.n, next, 2) : null;
  if (c.resident) {
    a = residentCopy(backend, a);
    b = residentCopy(backend, b);
    if (bias) bias = residentCopy(backend, bias);
  }
  const args = (out: Float32Array): GemmArgs => ({
    m: c.m,
    n: c.n,
    k: c.k,
    a,
    b,
    c: out,
    transA: c.transA,
    transB: c.transB,
    accumulate: c.accumulate,
    batch,
    strideA: sa,
    strideB: sb,
    strideC: sc,
    offsetA: oa,
    offsetB: ob,
    offsetC: oc,
    bias,
  });
  const want = c0.slice();
  jsBackend.gemm(args(want));
  const got = c0.slice();
  backend.gemm(args(got));
  const what = `${backend.name}×${(backend as WasmBackend).threads} gemm ${JSON.stringify(c)}`;
  assertNormwise(got, want, 1e-5, what);
}

const teams: [string, () => WasmBackend][] = [];
let one: WasmBackend;
let two: WasmBackend;

before(async () => {
  one = await createNodeWasmBackend({ threads: 1, thresholds: FORCE_WASM });
  two = await createNodeWasmBackend({ threads: 2, thresholds: FORCE_WASM });
});

after(() => {
  one.dispose();
  two.dispose();
  disposeBackend();
});

teams.push(["1 thread", () => one], ["2 threads", () => two]);

for (const [label, backend] of teams) {
  describe(`wasm backend, ${label}`, () => {
    test("reports its threads", () => {
      assert.equal(backend().threads, label === "1 thread" ? 1 : 2);
      assert.equal(backend().name, "wasm");
    });

    test("gemm: odd shapes, every transpose case, overwrite and accumulate", () => {
      const shapes: [number, number, number][] = [];
      for (let i = 0; i < ODD.length; i++)
        for (let j = 0; j < ODD.length; j++) shapes.push([ODD[i]!, ODD[j]!, ODD[(i + 2 * j) % ODD.length]!]);
      // several k blocks (KC = 256), several column blocks (NC = 1024), several row blocks (MC = 64)
      shapes.push([33, 40, 600], [5, 1100, 20], [130, 9, 7]);
      let seed = 1;
      for (const [m, n, k] of shapes)
        for (const transA of [false, true])
          for (const transB of [false, true])
            for (const accumulate of [false, true])
              checkGemm(backend(), { m, n, k, transA, transB, accumulate }, seed++);
    });

    test("gemm: k = 0 clears C, or leaves it when accumulating", () => {
      checkGemm(backend(), { m: 3, n: 5, k: 0, transA: false, transB: false, accumulate: false }, 3);
      checkGemm(backend(), { m: 3, n: 5, k: 0, transA: true, transB: true, accumulate: true }, 4);
    });

    test("gemm: batched with strides and offsets (attention shapes and gaps)", () => {
      let seed = 100;
      for (const transA of [false, true])
        for (const transB of [false, true]) {
          // scores = Q·Kᵀ per head, context = P·V per head: batch = heads
          checkGemm(
            backend(),
            { m: 128, n: 128, k: 64, transA, transB, accumulate: false, batch: 4 },
            seed++,
          );
          checkGemm(backend(), { m: 17, n: 64, k: 65, transA, transB, accumulate: true, batch: 3 }, seed++);
          // gaps between operands and offsets into larger arrays
          checkGemm(
            backend(),
            {
              m: 17,
              n: 3,
              k: 65,
              transA,
              transB,
              accumulate: false,
              batch: 5,
              strideA: 17 * 65 + 7,
              strideB: 3 * 65 + 1,
              strideC: 17 * 3 + 4,
              offsetA: 3,
              offsetB: 11,
              offsetC: 2,
            },
            seed++,
          );
          // one B shared by every product (stride 0), with a gap-free C
          checkGemm(
            backend(),
            { m: 65, n: 17, k: 3, transA, transB, accumulate: true, batch: 2, strideB: 0, offsetC: 1 },
            seed++,
          );
          // every product adds into the same C (stride 0): must run in order
          checkGemm(
            backend(),
            { m: 3, n: 17, k: 127, transA, transB, accumulate: true, batch: 3, strideC: 0 },
            seed++,
          );
        }
    });

    test("gemm: the bias fused into the product, overwritten and (ignored) when accumulating", () => {
      let seed = 300;
      for (const [m, n, k] of [
        [1, 1, 1],
        [17, 65, 127],
        [130, 1100, 20],
        [5, 3, 0],
      ] as [number, number, number][])
        for (const transB of [false, true])
          for (const accumulate of [false, true])
            checkGemm(backend(), { m, n, k, transA: false, transB, accumulate, bias: true }, seed++);
      checkGemm(
        backend(),
        { m: 17, n: 64, k: 65, transA: true, transB: false, accumulate: false, batch: 3, bias: true },
        seed++,
      );
    });

    test("gemm: resident operands are read in place, offsets and batches included", () => {
      let seed = 400;
      for (const transB of [false, true])
        for (const bias of [false, true]) {
          checkGemm(
            backend(),
            { m: 65, n: 127, k: 300, transA: false, transB, accumulate: false, bias, resident: true },
            seed++,
          );
          checkGemm(
            backend(),
            {
              m: 17,
              n: 3,
              k: 65,
              transA: true,
              transB,
              accumulate: !bias,
              batch: 3,
              offsetA: 3,
              offsetB: 11,
              resident: true,
              bias,
            },
            seed++,
          );
        }
    });

    test("layer norm backward: both forms, weight or none, std and mean held constant or not", () => {
      const next = rng(19);
      for (const form of ["bert", "paper"] as const)
        for (const rows of [1, 3, 17])
          for (const cols of [...ODD, 768])
            for (const affine of [false, true])
              for (const [constantStd, constantMean] of [
                [false, false],
                [true, false],
                [true, true],
              ] as const) {
                const x = randomArray(rows * cols, next, 2, 5);
                if (rows === 3) x.fill(1.5, 0, cols); // a constant row: s = 0
                const weight = affine ? randomArray(cols, next) : null;
                const mean = new Float32Array(rows);
                const denom = new Float32Array(rows);
                const out = new Float32Array(rows * cols);
                const eps = 1e-5;
                jsBackend.layerNorm({ x, out, rows, cols, eps, form, weight, bias: null, mean, denom });
                const gy = randomArray(rows * cols, next, 2);
                const run = (b: Backend) => {
                  const gx = new Float32Array(rows * cols);
                  b.layerNormBackward({
                    x,
                    mean,
                    denom,
                    gy,
                    gx,
                    rows,
                    cols,
                    eps,
                    form,
                    weight,
                    constantStd,
                    constantMean,
                  });
                  return gx;
                };
                const what = `layerNormBackward ${form} ${rows}×${cols}${affine ? " affine" : ""} std ${constantStd} mean ${constantMean}`;
                assertElementwise(run(backend()), run(jsBackend), what);
              }
    });

    test("RMS norm and its backward: weight or none, scale held constant or not", () => {
      const next = rng(29);
      for (const rows of [1, 3, 17])
        for (const cols of [...ODD, 768])
          for (const affine of [false, true]) {
            const x = randomArray(rows * cols, next, 2, 0.5);
            if (rows === 3) x.fill(0, cols, 2 * cols); // an all-zero row: r = 1/√eps
            const weight = affine ? randomArray(cols, next) : null;
            const forward = (b: Backend) => {
              const out = new Float32Array(rows * cols);
              const scale = new Float64Array(rows);
              b.rmsNorm({ x, out, rows, cols, eps: 1e-6, weight, scale });
              return { out, scale };
            };
            const want = forward(jsBackend);
            const got = forward(backend());
            const what = `rmsNorm ${rows}×${cols}${affine ? " affine" : ""}`;
            assertElementwise(got.out, want.out, what);
            assertElementwise(got.scale, want.scale, `${what} scale`, 1e-12);
            const gy = randomArray(rows * cols, next, 2);
            for (const constantScale of [false, true]) {
              const backward = (b: Backend) => {
                const gx = new Float32Array(rows * cols);
                b.rmsNormBackward({ x, gy, gx, rows, cols, weight, scale: want.scale, constantScale });
                return gx;
              };
              assertElementwise(
                backward(backend()),
                backward(jsBackend),
                `${what} backward ${constantScale}`,
              );
            }
          }
    });

    test("identity-rule backward: g·y/z, and g·atZero where z = 0", () => {
      const next = rng(23);
      for (const n of [...ODD, 1000, 4099]) {
        const z = randomArray(n, next, 4);
        for (let i = 0; i < n; i += 5) z[i] = 0;
        const y = new Float32Array(n);
        jsBackend.gelu(z, y, "erf");
        const g = randomArray(n, next, 3);
        const want = new Float32Array(n);
        const got = new Float32Array(n);
        jsBackend.identityBackward(z, y, g, want, 0.5);
        backend().identityBackward(z, y, g, got, 0.5);
        assertElementwise(got, want, `identityBackward n=${n}`);
      }
    });

    test("add, mul, axpy", () => {
      const next = rng(7);
      for (const n of [...ODD, 1000]) {
        const a = randomArray(n, next, 3);
        const b = randomArray(n, next, 3);
        const want = new Float32Array(n);
        const got = new Float32Array(n);
        jsBackend.add(a, b, want);
        backend().add(a, b, got);
        assertElementwise(got, want, `add n=${n}`);
        jsBackend.mul(a, b, want);
        backend().mul(a, b, got);
        assertElementwise(got, want, `mul n=${n}`);
        const y1 = b.slice();
        const y2 = b.slice();
        jsBackend.axpy(0.1, a, y1);
        backend().axpy(0.1, a, y2);
        assertElementwise(y2, y1, `axpy n=${n}`);
      }
    });

    test("softmax and its backward, masked entries and rows included", () => {
      const next = rng(11);
      for (const rows of ODD)
        for (const cols of ODD) {
          const x = randomArray(rows * cols, next, 20);
          for (let i = 0; i < x.length; i += 7) x[i] = -Infinity;
          if (rows > 2) x.fill(-Infinity, cols, 2 * cols);
          const want = new Float32Array(x.length);
          const got = new Float32Array(x.length);
          jsBackend.softmax(x, want, rows, cols);
          backend().softmax(x, got, rows, cols);
          assertElementwise(got, want, `softmax ${rows}×${cols}`);
          const gp = randomArray(x.length, next, 2);
          const p = want.slice();
          jsBackend.softmaxBackward(p, gp, want, rows, cols);
          backend().softmaxBackward(p, gp, got, rows, cols);
          assertElementwise(got, want, `softmaxBackward ${rows}×${cols}`);
        }
    });

    test("layer norm: both forms, with and without weight and bias", () => {
      const next = rng(13);
      for (const form of ["bert", "paper"] as const)
        for (const rows of [1, 3, 17])
          for (const cols of ODD)
            for (const affine of [false, true]) {
              const x = randomArray(rows * cols, next, 2, 5);
              const weight = affine ? randomArray(cols, next) : null;
              const bias = affine ? randomArray(cols, next) : null;
              const run = (b: Backend) => {
                const out = new Float32Array(rows * cols);
                const mean = new Float32Array(rows);
                const denom = new Float32Array(rows);
                b.layerNorm({ x, out, rows, cols, eps: 1e-5, form, weight, bias, mean, denom });
                return { out, mean, denom };
              };
              const want = run(jsBackend);
              const got = run(backend());
              const what = `layerNorm ${form} ${rows}×${cols}${affine ? " affine" : ""}`;
              assertElementwise(got.out, want.out, what);
              assertElementwise(got.mean, want.mean, `${what} mean`);
              assertElementwise(got.denom, want.denom, `${what} denom`);
            }
    });

    test("gelu and its derivative, erf and tanh forms, over the whole range", () => {
      const next = rng(17);
      const sweep = new Float32Array(4001);
      for (let i = 0; i < sweep.length; i++) sweep[i] = -20 + i / 100;
      const inputs = [sweep, ...ODD.map((n) => randomArray(n, next, 6))];
      for (const form of ["erf", "tanh"] as GeluForm[])
        for (const x of inputs) {
          const want = new Float32Array(x.length);
          const got = new Float32Array(x.length);
          jsBackend.gelu(x, want, form);
          backend().gelu(x, got, form);
          assertElementwise(got, want, `gelu ${form} n=${x.length}`);
          const g = randomArray(x.length, next, 2);
          jsBackend.geluBackward(x, g, want, form);
          backend().geluBackward(x, g, got, form);
          assertElementwise(got, want, `geluBackward ${form} n=${x.length}`);
        }
    });

    test("float64 data runs on the reference", () => {
      const a = new Float64Array([1, 2, 3, 4]);
      const out = new Float64Array(4);
      backend().softmax(a, out, 2, 2);
      const want = new Float64Array(4);
      jsBackend.softmax(a, want, 2, 2);
      assert.deepEqual(out, want);
    });
  });
}

describe("choosing a backend", () => {
  test("initBackend installs js or wasm and backendInfo reports it", async () => {
    const js = await initBackend({ backend: "js" });
    assert.equal(js, jsBackend);
    assert.equal(getBackend(), jsBackend);
    assert.deepEqual(backendInfo(), { name: "js", threads: 1, relaxedSimd: false });
    const wasm = await initBackend({ backend: "wasm", threads: 2 });
    assert.equal(getBackend(), wasm);
    const info = backendInfo();
    assert.equal(info.name, "wasm");
    assert.equal(info.threads, 2);
    assert.equal(typeof info.relaxedSimd, "boolean");
    const bench = benchGemm(8, 8, 8, { reps: 1, transB: true });
    assert.ok(bench.gflops > 0 && bench.backend === "wasm");
    disposeBackend();
    assert.equal(getBackend(), jsBackend);
  });

  test("XAIT_BACKEND and XAIT_THREADS are honoured and checked", async () => {
    const saved = { backend: process.env["XAIT_BACKEND"], threads: process.env["XAIT_THREADS"] };
    try {
      process.env["XAIT_BACKEND"] = "wasm";
      process.env["XAIT_THREADS"] = "1";
      await initBackend();
      assert.deepEqual([backendInfo().name, backendInfo().threads], ["wasm", 1]);
      process.env["XAIT_BACKEND"] = "js";
      await initBackend();
      assert.equal(backendInfo().name, "js");
      process.env["XAIT_BACKEND"] = "cuda";
      await assert.rejects(initBackend(), /XAIT_BACKEND=cuda/);
      process.env["XAIT_BACKEND"] = "wasm";
      process.env["XAIT_THREADS"] = "zero";
      await assert.rejects(initBackend(), /XAIT_THREADS=zero/);
    } finally {
      for (const [key, value] of [
        ["XAIT_BACKEND", saved.backend],
        ["XAIT_THREADS", saved.threads],
      ] as const)
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      disposeBackend();
    }
  });

  test("default thresholds keep tiny calls on js; a disposed backend still computes (on js)", async () => {
    const b = await createNodeWasmBackend({ threads: 1 });
    const a = new Float32Array([1, 2, 3, 4]);
    const want = new Float32Array(4);
    const got = new Float32Array(4);
    jsBackend.softmax(a, want, 2, 2);
    b.softmax(a, got, 2, 2);
    assert.deepEqual(got, want);
    b.dispose();
    got.fill(0);
    b.softmax(a, got, 2, 2);
    assert.deepEqual(got, want);
  });
});
