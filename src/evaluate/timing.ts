/** Explanation time per method over an evaluation: explainer cost is a result too. Browser-safe. */

export interface MethodTiming {
  /** Explanation time of this method over all samples, seconds (model forward passes of the protocol excluded). */
  total_s: number;
  per_sample_ms: number;
}

/** Accumulates the time spent in each method's explainer. */
export class MethodClock {
  private readonly ms = new Map<string, number>();

  constructor(ids: readonly string[]) {
    for (const id of ids) this.ms.set(id, 0);
  }

  /** Runs `fn` and adds its wall time to method `id`. */
  time<T>(id: string, fn: () => T): T {
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      this.ms.set(id, (this.ms.get(id) ?? 0) + performance.now() - t0);
    }
  }

  /** Totals and per-sample means over `n` samples. */
  result(n: number): Record<string, MethodTiming> {
    const out: Record<string, MethodTiming> = {};
    for (const [id, ms] of this.ms) out[id] = { total_s: ms / 1000, per_sample_ms: n > 0 ? ms / n : 0 };
    return out;
  }
}
