/** Shape ops: reshape, permute/transpose, slice, gather (embedding lookup), concat. */
import type { FloatArray } from "../backend.js";
import { XaitError } from "../../errors.js";
import { addGrad, allocate, result, shapeString, sizeOf, Tensor } from "../tensor.js";
import { record, type OpEmitter } from "../trace.js";

/** The same values with another shape (one dimension may be −1). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const s = shape.slice();
  const free = s.indexOf(-1);
  if (free >= 0) s[free] = x.size / sizeOf(s.filter((_, i) => i !== free));
  if (sizeOf(s) !== x.size || s.some((d) => !Number.isInteger(d) || d < 0))
    throw new XaitError(`reshape: cannot view ${shapeString(x.shape)} as ${shapeString(shape)}`);
  return record(
    "reshape",
    [x],
    result(x.data, s, [x], (g) => addGrad(x, g, true)),
  );
}

/**
 * Reshape in ONNX with the batch and sequence dimensions kept dynamic: the leading dimensions the
 * input and output share are copied (0), the rest are the fixed sizes of the probe.
 */
export const reshapeEmitter: OpEmitter = {
  forward(e, [x], op) {
    const from = op.inputs[0]!.shape;
    const to = op.output.shape;
    let k = 0;
    while (k < from.length && k < to.length && from[k] === to[k]) k++;
    return e.node("Reshape", [x!, e.ints(to.map((d, i) => (i < k ? 0 : d)))]);
  },
  backward: (e, g, [x]) => [e.node("Reshape", [g, e.node("Shape", [x!])])],
};

function normAxis(axis: number, rank: number, op: string, shape: readonly number[]): number {
  const a = axis < 0 ? rank + axis : axis;
  if (a < 0 || a >= rank)
    throw new XaitError(`${op}: axis ${axis} out of range for shape ${shapeString(shape)}`);
  return a;
}

/** Reorder dimensions: result dimension i is input dimension perm[i] (copies). */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const rank = x.rank;
  if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i))
    throw new XaitError(
      `permute: [${perm.join(",")}] is not a permutation of the dimensions of ${shapeString(x.shape)}`,
    );
  const shape = perm.map((p) => x.shape[p]!);
  const inStrides = stridesOf(x.shape);
  // Runs of the last dimension stay contiguous when it keeps its place (e.g. splitting heads):
  // index the runs and copy each in a tight loop.
  const run = perm[rank - 1] === rank - 1 ? x.shape[rank - 1]! : 1;
  const outer = run === 1 ? shape : shape.slice(0, -1);
  const index = gatherIndex(
    outer,
    outer.map((_, i) => inStrides[perm[i]!]!),
  );
  const out = allocate(x.dtype, x.size);
  copyRuns(x.data, out, index, run, false);
  const y = result(out, shape, [x], (g) => {
    const gx = allocate(x.dtype, x.size);
    copyRuns(g, gx, index, run, true);
    addGrad(x, gx);
  });
  return record("permute", [x], y, { perm: [...perm] });
}

export const permuteEmitter: OpEmitter = {
  forward: (e, [x], op) => e.node("Transpose", [x!], { perm: op.attrs["perm"] as number[] }),
  backward(e, g, _in, _y, op) {
    const perm = op.attrs["perm"] as number[];
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [e.node("Transpose", [g], { perm: inverse })];
  },
};

/**
 * Copy run r of `run` elements from `from[index[r]…]` to `to[r·run…]` (or back, `scatter`). Long runs
 * (a head's 64 values) go through TypedArray.set, a memory copy; short ones element by element.
 */
function copyRuns(
  from: FloatArray,
  to: FloatArray,
  index: ArrayLike<number>,
  run: number,
  scatter: boolean,
): void {
  if (run >= 16 && from.constructor === to.constructor) {
    for (let r = 0; r < index.length; r++) {
      const at = index[r]!;
      if (scatter) to.set(from.subarray(r * run, r * run + run), at);
      else to.set(from.subarray(at, at + run), r * run);
    }
    return;
  }
  for (let r = 0; r < index.length; r++) {
    const at = index[r]!;
    const dst = r * run;
    if (scatter) for (let j = 0; j < run; j++) to[at + j] = from[dst + j]!;
    else for (let j = 0; j < run; j++) to[dst + j] = from[at + j]!;
  }
}

/** Swap two dimensions. */
export function transpose(x: Tensor, d0: number, d1: number): Tensor {
  const perm = x.shape.map((_, i) => i);
  const a = normAxis(d0, x.rank, "transpose", x.shape);
  const b = normAxis(d1, x.rank, "transpose", x.shape);
  perm[a] = b;
  perm[b] = a;
  return permute(x, perm);
}

function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** Flat source index for every element of an output of `shape` read with `strides`. */
function gatherIndex(shape: readonly number[], strides: readonly number[], offset = 0): Int32Array {
  const n = sizeOf(shape);
  const idx = new Int32Array(n);
  const rank = shape.length;
  const counter = new Array<number>(rank).fill(0);
  let cur = offset;
  for (let i = 0; i < n; i++) {
    idx[i] = cur;
    for (let d = rank - 1; d >= 0; d--) {
      counter[d]!++;
      cur += strides[d]!;
      if (counter[d]! < shape[d]!) break;
      cur -= strides[d]! * shape[d]!;
      counter[d] = 0;
    }
  }
  return idx;
}

/** x[..., start:end, ...] along `axis`. */
export function slice(x: Tensor, axis: number, start: number, end: number): Tensor {
  const a = normAxis(axis, x.rank, "slice", x.shape);
  const len = x.shape[a]!;
  if (start < 0 || end > len || start > end)
    throw new XaitError(
      `slice: range ${start}:${end} out of bounds for axis ${axis} of ${shapeString(x.shape)}`,
    );
  const shape = x.shape.slice();
  shape[a] = end - start;
  const outer = sizeOf(x.shape.slice(0, a));
  const inner = sizeOf(x.shape.slice(a + 1));
  const block = (end - start) * inner;
  const out = allocate(x.dtype, outer * block);
  for (let o = 0; o < outer; o++)
    out.set(x.data.subarray(o * len * inner + start * inner, o * len * inner + end * inner), o * block);
  const y = result(out, shape, [x], (g) => {
    const gx = allocate(x.dtype, x.size);
    for (let o = 0; o < outer; o++)
      gx.set(g.subarray(o * block, (o + 1) * block), o * len * inner + start * inner);
    addGrad(x, gx);
  });
  return record("slice", [x], y, { axis: a, start, end, len });
}

/** Slice in ONNX; backward pads the gradient with zeros (the sliced axis must be a fixed one). */
export const sliceEmitter: OpEmitter = {
  forward(e, [x], op) {
    const { axis, start, end } = op.attrs as { axis: number; start: number; end: number };
    return e.node("Slice", [x!, e.ints([start]), e.ints([end]), e.ints([axis])]);
  },
  backward(e, g, _in, _y, op) {
    const { axis, start, end, len } = op.attrs as { axis: number; start: number; end: number; len: number };
    const rank = op.output.rank;
    const pads = new Array<number>(2 * rank).fill(0);
    pads[axis] = start;
    pads[rank + axis] = len - end;
    return [e.node("Pad", [g, e.ints(pads)])];
  },
};

/**
 * Rows of a table: out[..., :] = table[ids[...], :] — the embedding lookup. The gradient scatters
 * (adds) back into the rows that were read.
 */
export function gather(table: Tensor, ids: ArrayLike<number>, idsShape: readonly number[]): Tensor {
  if (table.rank !== 2) throw new XaitError(`gather: table must be 2-D, got ${shapeString(table.shape)}`);
  const [rows, dim] = table.shape as [number, number];
  const n = ids.length;
  if (sizeOf(idsShape) !== n)
    throw new XaitError(`gather: ${n} ids do not fill shape ${shapeString(idsShape)}`);
  const out = allocate(table.dtype, n * dim);
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    if (!Number.isInteger(id) || id < 0 || id >= rows)
      throw new XaitError(`gather: id ${id} out of range for a table of ${rows} rows`);
    out.set(table.data.subarray(id * dim, (id + 1) * dim), i * dim);
  }
  const y = result(out, [...idsShape, dim], [table], (g) => {
    const gt = allocate(table.dtype, table.size);
    for (let i = 0; i < n; i++) {
      const o = ids[i]! * dim;
      for (let j = 0; j < dim; j++) gt[o + j]! += g[i * dim + j]!;
    }
    addGrad(table, gt);
  });
  return record("gather", [table], y, { ids });
}

/** The embedding lookup in ONNX: the ids are a batch-dependent value (token, type or position ids). */
export const gatherEmitter: OpEmitter = {
  forward: (e, [table], op) => e.node("Gather", [table!, e.symbol(op.attrs["ids"] as object)], { axis: 0 }),
};

/** Join tensors along `axis`; all other dimensions must agree. */
export function concat(xs: Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new XaitError("concat: no tensors");
  const first = xs[0]!;
  const a = normAxis(axis, first.rank, "concat", first.shape);
  for (const t of xs) {
    if (t.rank !== first.rank || t.shape.some((d, i) => i !== a && d !== first.shape[i]))
      throw new XaitError(
        `concat: shapes ${shapeString(first.shape)} and ${shapeString(t.shape)} differ outside axis ${axis}`,
      );
  }
  const shape = first.shape.slice();
  shape[a] = xs.reduce((s, t) => s + t.shape[a]!, 0);
  const outer = sizeOf(first.shape.slice(0, a));
  const inner = sizeOf(first.shape.slice(a + 1));
  const total = shape[a]! * inner;
  const dtype = xs.some((t) => t.dtype === "float64") ? "float64" : "float32";
  const out = allocate(dtype, outer * total);
  let off = 0;
  const offsets: number[] = [];
  for (const t of xs) {
    offsets.push(off);
    const block = t.shape[a]! * inner;
    for (let o = 0; o < outer; o++) out.set(t.data.subarray(o * block, (o + 1) * block), o * total + off);
    off += block;
  }
  return result(out, shape, xs, (g) => {
    xs.forEach((t, i) => {
      if (!t.requiresGrad) return;
      const block = t.shape[a]! * inner;
      const gt = allocate(t.dtype, t.size);
      for (let o = 0; o < outer; o++)
        gt.set(g.subarray(o * total + offsets[i]!, o * total + offsets[i]! + block), o * block);
      addGrad(t, gt);
    });
  });
}
