/** Central finite differences in Float64 against the tape's gradients. */
import assert from "node:assert/strict";
import { Random, Tensor, mul, sum, type FloatArray } from "../../src/tensor/index.js";

export function randomTensor(shape: number[], rng: Random, scale = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.normal() * scale;
  return new Tensor(data, shape);
}

/**
 * Check ∂L/∂inputs for L = Σ out ⊙ W (W random, fixed) by central differences. `make` builds the
 * output from the inputs; `inputs` are Float64 tensors (only those with requiresGrad are checked).
 */
export function gradcheck(
  make: (xs: Tensor[]) => Tensor,
  inputs: Tensor[],
  opts: { tol?: number; h?: number; seed?: number } = {},
): void {
  const tol = opts.tol ?? 1e-6;
  const h = opts.h ?? 1e-6;
  const rng = new Random(opts.seed ?? 7);
  const out0 = make(inputs);
  const weights = randomTensor(out0.shape.slice(), rng);
  const loss = (): number => {
    const o = make(inputs);
    let s = 0;
    for (let i = 0; i < o.size; i++) s += o.data[i]! * weights.data[i]!;
    return s;
  };
  for (const x of inputs) x.grad = null;
  const L = sum(mul(make(inputs), weights));
  L.backward();
  for (const [which, x] of inputs.entries()) {
    if (!x.requiresGrad) continue;
    const analytic = x.grad as FloatArray | null;
    assert.ok(analytic, `input ${which} got no gradient`);
    const data = x.data;
    for (let i = 0; i < x.size; i++) {
      const v = data[i]!;
      data[i] = v + h;
      const up = loss();
      data[i] = v - h;
      const down = loss();
      data[i] = v;
      const numeric = (up - down) / (2 * h);
      const err = Math.abs(numeric - analytic[i]!);
      assert.ok(
        err <= tol * Math.max(1, Math.abs(numeric)),
        `input ${which} element ${i}: analytic ${analytic[i]} vs numeric ${numeric} (error ${err})`,
      );
    }
  }
}
