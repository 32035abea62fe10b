/**
 * Resident weights: the heap that places them in the kernels' memory, the wasm backend handing them
 * out (bounded, and never on an unshared memory), model folders loaded straight into it, and an
 * explanation with resident weights equal to the js reference backend's.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, describe, test } from "node:test";
import { explain } from "../src/explain/index.js";
import { loadModel } from "../src/models/folder-node.js";
import { disposeBackend, initBackend } from "../src/tensor/backends.js";
import { getBackend, isResident, residentArray } from "../src/tensor/index.js";
import { createMemory, instantiateKernels, kernelFile } from "../src/tensor/wasm/load.js";
import { ResidentHeap, RESIDENT_ALIGN } from "../src/tensor/wasm/resident.js";
import { Team, createControl } from "../src/tensor/wasm/team.js";
import { FORCE_WASM, WasmBackend } from "../src/tensor/wasm/wasm-backend.js";
import { createNodeWasmBackend } from "../src/tensor/wasm-node.js";
import { DEFAULT_MODEL } from "../src/cli/io.js";
import { tinyModel } from "./helpers/tiny-models.js";

after(() => disposeBackend());

describe("the resident heap", () => {
  test("blocks are aligned, reused first-fit, merged when freed, and the top falls back", () => {
    const h = new ResidentHeap(100, 100 + 10 * RESIDENT_ALIGN);
    assert.equal(h.top, 128);
    const a = h.alloc(1)!;
    const b = h.alloc(RESIDENT_ALIGN + 1)!;
    const c = h.alloc(RESIDENT_ALIGN)!;
    assert.deepEqual([a, b, c], [128, 128 + 64, 128 + 192]);
    assert.equal(h.top, 128 + 256);
    assert.equal(h.bytesInUse, 256);
    h.release(a, 1);
    h.release(b, RESIDENT_ALIGN + 1);
    // a and b merged into one free block of 192 bytes: a request of 150 fits there
    assert.equal(h.alloc(150), 128);
    assert.equal(h.top, 128 + 256);
    h.release(c, RESIDENT_ALIGN);
    assert.equal(h.top, 128 + 192, "freeing the highest block lowers the top");
    h.release(128, 150);
    assert.equal(h.top, 128);
    assert.equal(h.bytesInUse, 0);
  });

  test("a request past the limit is refused; foreign and double releases throw", () => {
    const h = new ResidentHeap(0, 4 * RESIDENT_ALIGN);
    assert.equal(h.alloc(5 * RESIDENT_ALIGN), null);
    const a = h.alloc(RESIDENT_ALIGN)!;
    h.alloc(RESIDENT_ALIGN);
    assert.throws(() => h.release(a + 4, 4), /was not allocated here/);
    h.release(a, RESIDENT_ALIGN);
    assert.throws(() => h.release(a, RESIDENT_ALIGN), /released twice/);
  });
});

describe("resident arrays of the wasm backend", () => {
  test("live in the shared memory, zeroed, and are bounded by the memory's maximum", async () => {
    // 96 pages = 6 MiB, of which the GEMM scratch takes about 1.3 MB
    const b = await createNodeWasmBackend({ threads: 1, maxPages: 96 });
    try {
      assert.equal(b.residentWeights, true);
      const a = b.allocate(1000)!;
      assert.ok(a.buffer instanceof SharedArrayBuffer);
      assert.equal(a.length, 1000);
      assert.ok(a.every((v) => v === 0));
      assert.equal(b.residentBytes, 4032);
      assert.equal(b.allocate(2_000_000), null, "8 MB do not fit under 6 MiB");
      assert.ok(b.allocate(200_000), "800 kB do");
    } finally {
      b.dispose();
    }
  });

  test("a product reads resident operands where they are: no copy in, only the result out", async () => {
    const b = await createNodeWasmBackend({ threads: 1, thresholds: FORCE_WASM });
    try {
      const copies = { in: 0 };
      const spy = b as unknown as { put: (...args: unknown[]) => void };
      const put = spy.put.bind(b);
      spy.put = (...args) => {
        copies.in++;
        put(...args);
      };
      const [m, k, n] = [8, 16, 24];
      const plainA = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i));
      const plainB = Float32Array.from({ length: n * k }, (_, i) => Math.cos(i));
      const bias = Float32Array.from({ length: n }, (_, i) => i / 10);
      const args = (a: Float32Array, w: Float32Array, bi: Float32Array, c: Float32Array) => ({
        m,
        n,
        k,
        a,
        b: w,
        c,
        transA: false,
        transB: true,
        accumulate: false,
        batch: 1,
        strideA: 0,
        strideB: 0,
        strideC: 0,
        bias: bi,
      });
      const want = new Float32Array(m * n);
      b.gemm(args(plainA, plainB, bias, want));
      assert.equal(copies.in, 3, "ordinary arrays: A, B and the bias copied in");
      const resident = (x: Float32Array) => {
        const r = b.allocate(x.length)!;
        r.set(x);
        return r;
      };
      copies.in = 0;
      const got = new Float32Array(m * n);
      b.gemm(args(resident(plainA), resident(plainB), resident(bias), got));
      assert.equal(copies.in, 0, "resident operands are not copied");
      assert.deepEqual(got, want);
    } finally {
      b.dispose();
    }
  });

  test("an unshared memory (a page without cross-origin isolation) hands out none: copies as before", async () => {
    const file = new URL(`../src/tensor/wasm/${kernelFile(false, false)}`, import.meta.url);
    const module = await WebAssembly.compile(await readFile(file));
    const memory = createMemory(false, 1024);
    const run = await instantiateKernels(module, memory);
    const team = new Team(createControl(false), 0, run);
    const b = new WasmBackend(
      { memory, maxPages: 1024, run, team, relaxedSimd: false, terminate: () => {} },
      FORCE_WASM,
    );
    try {
      assert.equal(b.residentWeights, false);
      assert.equal(b.allocate(100), null);
      // and its kernels still run on copies
      const x = new Float32Array([1, 2, 3, 4]);
      const out = new Float32Array(4);
      b.add(x, x, out);
      assert.deepEqual([...out], [2, 4, 6, 8]);
    } finally {
      b.dispose();
    }
  });

  test("residentArray falls back to an ordinary array on js", async () => {
    await initBackend({ backend: "js" });
    const a = residentArray(10);
    assert.equal(isResident(a), false);
    assert.ok(!(a.buffer instanceof SharedArrayBuffer));
  });
});

/** Largest |a − b| over the largest |b|. */
function relDiff(a: readonly number[], b: readonly number[]): number {
  assert.equal(a.length, b.length);
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return d / (s || 1);
}

describe("explanations with resident weights", () => {
  const text = "a gripping, funny and moving film, though the plot is thin";
  const methods = ["lrp", "gi", "attnlrp", "lrp-ah"];

  test("a model folder loads straight into resident memory and explains as the js backend does", async () => {
    await initBackend({ backend: "js" });
    const reference = explain(loadModel(DEFAULT_MODEL), text, { methods });
    await initBackend({ backend: "wasm", threads: 2, thresholds: FORCE_WASM });
    const model = loadModel(DEFAULT_MODEL);
    const params = [...model.params.values()];
    assert.ok(params.length > 10);
    assert.ok(
      params.every((t) => isResident(t.data)),
      "every weight decoded into the kernels' memory",
    );
    const got = explain(model, text, { methods });
    assert.equal(getBackend().name, "wasm");
    assert.deepEqual(got.tokens, reference.tokens);
    for (const m of methods) {
      const a = got.explanations[m]!;
      const r = reference.explanations[m]!;
      const d = relDiff(a.attributions, r.attributions);
      assert.ok(d < 1e-4, `${m}: attributions differ by ${d.toExponential(2)} of the largest`);
      assert.ok(Math.abs(a.logit - r.logit) < 1e-4 * Math.max(1, Math.abs(r.logit)), `${m}: logit`);
    }
  });

  test("makeResident moves a model built in memory; the explanation does not change", async () => {
    await initBackend({ backend: "wasm", threads: 2, thresholds: FORCE_WASM });
    const plain = tinyModel("bert");
    const before = explain(plain, "good movie !", { methods: ["lrp", "gi"] });
    const moved = tinyModel("bert").makeResident();
    assert.ok([...moved.params.values()].every((t) => isResident(t.data)));
    const after = explain(moved, "good movie !", { methods: ["lrp", "gi"] });
    for (const m of ["lrp", "gi"]) {
      const d = relDiff(after.explanations[m]!.attributions, before.explanations[m]!.attributions);
      assert.ok(d < 1e-6, `${m}: ${d}`);
    }
    // a model loaded on a backend that was later replaced keeps working (its arrays are copied)
    await initBackend({ backend: "wasm", threads: 1 });
    const again = explain(moved, "good movie !", { methods: ["lrp"] });
    assert.ok(
      relDiff(again.explanations["lrp"]!.attributions, before.explanations["lrp"]!.attributions) < 1e-5,
    );
  });
});
