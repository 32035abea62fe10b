/** AdamW (decoupled weight decay, Loshchilov & Hutter) with global gradient-norm clipping. */
import type { Tensor } from "../tensor/index.js";

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay: number;
}

export class AdamW {
  private m: Float32Array[];
  private v: Float32Array[];
  private step = 0;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;

  /** `decay[i]` says whether parameter i gets weight decay (not biases, LayerNorm or embeddings' norms). */
  constructor(
    readonly params: Tensor[],
    readonly decay: boolean[],
    readonly opts: AdamWOptions,
  ) {
    this.m = params.map((p) => new Float32Array(p.size));
    this.v = params.map((p) => new Float32Array(p.size));
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
  }

  /** Scale all gradients so that their global L2 norm is at most maxNorm; returns the norm before. */
  clipGradients(maxNorm: number): number {
    let ss = 0;
    for (const p of this.params)
      if (p.grad) for (let i = 0; i < p.grad.length; i++) ss += p.grad[i]! * p.grad[i]!;
    const norm = Math.sqrt(ss);
    if (norm > maxNorm && norm > 0) {
      const s = maxNorm / norm;
      for (const p of this.params) if (p.grad) for (let i = 0; i < p.grad.length; i++) p.grad[i]! *= s;
    }
    return norm;
  }

  /** One update with learning rate lr; clears the gradients. */
  update(lr: number): void {
    this.step++;
    const { beta1: b1, beta2: b2, eps } = this;
    const c1 = 1 - Math.pow(b1, this.step);
    const c2 = 1 - Math.pow(b2, this.step);
    this.params.forEach((p, k) => {
      const g = p.grad;
      if (!g) return;
      const m = this.m[k]!;
      const v = this.v[k]!;
      const w = p.data;
      const wd = this.decay[k] ? this.opts.weightDecay : 0;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i]!;
        m[i] = b1 * m[i]! + (1 - b1) * gi;
        v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
        w[i] = w[i]! - lr * (m[i]! / c1 / (Math.sqrt(v[i]! / c2) + eps) + wd * w[i]!);
      }
      p.grad = null;
    });
  }
}

/** Linear warmup over `warmup` steps from 0 to the peak, then linear decay to 0 at `total`. */
export function linearSchedule(step: number, total: number, warmup: number, peak: number): number {
  if (step < warmup) return (peak * (step + 1)) / warmup;
  return peak * Math.max(0, (total - step) / Math.max(1, total - warmup));
}
