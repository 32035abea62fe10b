/**
 * A dense row-major tensor and the tape of reverse-mode autodiff.
 *
 * A tensor records how it was made (its parents and a backward function) only when gradients are
 * enabled and some parent requires a gradient — so a forward pass with no such parent does no
 * gradient bookkeeping at all. `backward()` walks the recorded graph in reverse topological order.
 */
import { getBackend, type FloatArray } from "./backend.js";
import "./js-backend.js"; // registers the reference backend
import { XaitError } from "../errors.js";

export type DType = "float32" | "float64";

interface Node {
  parents: Tensor[];
  /** Receives the gradient of this tensor and accumulates into the parents' gradients. */
  backward: (grad: FloatArray) => void;
}

let gradEnabled = true;

/** Run `fn` with gradient recording switched off (inference). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function allocate(dtype: DType, n: number): FloatArray {
  return dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
}

/** Arrays handed out by residentArray that live in a backend's memory. */
const residentArrays = new WeakSet<Float32Array>();

/**
 * A zeroed array of n floats for a long-lived tensor (model weights): in the active backend's own
 * memory when it keeps one (the wasm backend on a shared memory), where its kernels read it in place
 * without a copy per call; otherwise an ordinary Float32Array. Install the backend first.
 */
export function residentArray(n: number): Float32Array {
  const a = getBackend().allocate?.(n) ?? null;
  if (!a) return new Float32Array(n);
  residentArrays.add(a);
  return a;
}

/** Whether `a` came from residentArray in a backend's memory. */
export function isResident(a: FloatArray): boolean {
  return a instanceof Float32Array && residentArrays.has(a);
}

/**
 * `t` with its values in resident memory (see residentArray): a copy with the same shape and
 * requiresGrad, or `t` itself when it is resident already, float64, or the backend keeps no memory.
 */
export function makeResident(t: Tensor): Tensor {
  if (!(t.data instanceof Float32Array) || isResident(t.data) || t.size === 0) return t;
  const a = residentArray(t.size);
  if (!isResident(a)) return t;
  a.set(t.data);
  return new Tensor(a, t.shape, t.requiresGrad);
}

export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

export class Tensor {
  readonly shape: readonly number[];
  readonly data: FloatArray;
  /** Gradient, filled by backward() for tensors that require one and are leaves or retain it. */
  grad: FloatArray | null = null;
  requiresGrad: boolean;
  /** Keep the gradient of this non-leaf tensor after backward() (e.g. relevance at a block input). */
  retainsGrad = false;
  node: Node | null = null;

  constructor(data: FloatArray, shape: readonly number[], requiresGrad = false) {
    if (data.length !== sizeOf(shape))
      throw new XaitError(
        `tensor data has ${data.length} values, shape ${shapeString(shape)} wants ${sizeOf(shape)}`,
      );
    this.data = data;
    this.shape = shape.slice();
    this.requiresGrad = requiresGrad;
  }

  static zeros(shape: readonly number[], dtype: DType = "float32"): Tensor {
    return new Tensor(allocate(dtype, sizeOf(shape)), shape);
  }

  static fromArray(values: ArrayLike<number>, shape?: readonly number[], dtype: DType = "float32"): Tensor {
    const data = allocate(dtype, values.length);
    for (let i = 0; i < values.length; i++) data[i] = values[i]!;
    return new Tensor(data, shape ?? [values.length]);
  }

  static scalar(v: number, dtype: DType = "float32"): Tensor {
    return Tensor.fromArray([v], [], dtype);
  }

  get dtype(): DType {
    return this.data instanceof Float64Array ? "float64" : "float32";
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** The size of dimension `d` (negative counts from the end). */
  dim(d: number): number {
    return this.shape[d < 0 ? this.shape.length + d : d]!;
  }

  item(): number {
    if (this.size !== 1)
      throw new XaitError(`item() needs a single value, tensor has shape ${shapeString(this.shape)}`);
    return this.data[0]!;
  }

  toArray(): number[] {
    return Array.from(this.data);
  }

  /** Mark as a leaf that needs its gradient. */
  requireGrad(flag = true): this {
    this.requiresGrad = flag;
    return this;
  }

  retainGrad(): this {
    this.retainsGrad = true;
    return this;
  }

  /** The same values, cut from the graph: no gradient flows through the result. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /**
   * Reverse-mode autodiff from this tensor. `seed` is ∂L/∂this (default: ones — for a scalar, the
   * usual dL/dL = 1). Leaves that require a gradient and tensors marked with retainGrad() end with
   * their gradient in `.grad` (accumulated over calls); other intermediate gradients are freed as
   * soon as they have been propagated.
   */
  backward(seed?: FloatArray): void {
    if (!this.requiresGrad) throw new XaitError("backward() on a tensor that does not require a gradient");
    const order = topologicalOrder(this);
    const grads = new Map<Tensor, FloatArray>();
    const start = seed ?? allocate(this.dtype, this.size).fill(1);
    if (start.length !== this.size)
      throw new XaitError(`backward seed has ${start.length} values, tensor has ${this.size}`);
    grads.set(this, start);
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i]!;
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      if (!t.node || t.retainsGrad) t.accumulateGrad(g);
      if (t.node) {
        pendingGrads = grads;
        t.node.backward(g);
      }
    }
    pendingGrads = null;
  }

  private accumulateGrad(g: FloatArray): void {
    if (!this.grad) this.grad = g.slice();
    else for (let i = 0; i < g.length; i++) this.grad[i]! += g[i]!;
  }
}

/** Gradients being propagated by the running backward() — written by `addGrad`. */
let pendingGrads: Map<Tensor, FloatArray> | null = null;

/**
 * Accumulate `g` (the gradient w.r.t. `t`) during backward(). Ops call this from their backward
 * functions. The tape takes ownership of `g` unless `shared` is set (pass `shared` when `g` is the
 * incoming gradient itself or is also given to another parent): then it is copied if it must be kept.
 */
export function addGrad(t: Tensor, g: FloatArray, shared = false): void {
  if (!t.requiresGrad || !pendingGrads) return;
  const have = pendingGrads.get(t);
  if (!have) pendingGrads.set(t, shared ? g.slice() : g);
  else for (let i = 0; i < g.length; i++) have[i]! += g[i]!;
}

function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // iterative DFS (deep graphs would overflow the call stack)
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    const parents = t.node?.parents ?? [];
    if (i < parents.length) {
      top[1]++;
      const p = parents[i]!;
      if (p.requiresGrad && !seen.has(p)) {
        seen.add(p);
        stack.push([p, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}

/**
 * Create the result of an op. When recording, the result remembers its parents and backward
 * function; otherwise it is a plain tensor.
 */
export function result(
  data: FloatArray,
  shape: readonly number[],
  parents: Tensor[],
  backward: (grad: FloatArray) => void,
): Tensor {
  const out = new Tensor(data, shape);
  if (gradEnabled && parents.some((p) => p.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { parents, backward };
  }
  return out;
}

/** The common dtype of op inputs (float64 if any is float64). */
export function commonDType(...ts: Tensor[]): DType {
  return ts.some((t) => t.dtype === "float64") ? "float64" : "float32";
}
