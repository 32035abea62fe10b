/**
 * An exponential moving average of the weights (Polyak averaging): after every optimiser step,
 * `avg ← d·avg + (1 − d)·w`. Early on the decay is min(d, (1 + t) / (10 + t)) for the t-th update,
 * so that the first steps' weights do not linger in the average.
 */
import type { FloatArray, Tensor } from "../tensor/index.js";

export class WeightAverage {
  private readonly shadow: FloatArray[];
  private readonly scratch: Float64Array;
  private updates = 0;
  /** True while the averaged weights are in the parameters (between two swap() calls). */
  private exchanged = false;

  constructor(
    readonly params: Tensor[],
    readonly decay: number,
  ) {
    if (!(decay > 0 && decay < 1))
      throw new RangeError(`weight average decay must be in (0, 1), got ${decay}`);
    this.shadow = params.map((p) => p.data.slice());
    this.scratch = new Float64Array(Math.max(0, ...params.map((p) => p.size)));
  }

  /** The decay applied by the next update. */
  currentDecay(): number {
    return Math.min(this.decay, (1 + this.updates) / (10 + this.updates));
  }

  /** Fold the parameters' current values into the average. */
  update(): void {
    if (this.exchanged) throw new Error("WeightAverage.update() while the averaged weights are swapped in");
    const d = this.currentDecay();
    this.updates++;
    this.params.forEach((p, k) => {
      const a = this.shadow[k]!;
      const w = p.data;
      for (let i = 0; i < w.length; i++) a[i] = d * a[i]! + (1 - d) * w[i]!;
    });
  }

  /** Exchange the parameters' values with the average (call again to exchange them back). */
  swap(): void {
    this.params.forEach((p, k) => {
      const a = this.shadow[k]!;
      const t = this.scratch.subarray(0, a.length);
      t.set(p.data);
      p.data.set(a);
      a.set(t);
    });
    this.exchanged = !this.exchanged;
  }
}
