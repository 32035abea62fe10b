/**
 * Two runs of one evaluation compared sample by sample: runs of the same model and data that differ
 * in a method's rules (`--rule`), γ or any other option. Each sample contributes its area under each
 * curve (perturbation: AUAC, AUPC, AU-MSE) or its |Σ R − f| (conservation) in both runs; the mean of
 * the per-sample differences (B − A) gets a percentile bootstrap interval, resampling the same
 * samples for both runs. Browser-safe.
 */
import { XaitError } from "../errors.js";
import { BOOTSTRAP_LEVEL, BOOTSTRAP_RESAMPLES, quantileSorted } from "./bootstrap.js";
import { FRACTIONS } from "./fractions.js";
import type { ParsedJournal } from "./journal.js";
import { mean, trapezoid } from "./metrics.js";
import type { PerturbationCurves } from "./perturbation.js";
import { Random } from "../tensor/random.js";

export interface ComparedMetric {
  metric: string;
  method: string;
  higherIsBetter: boolean;
  /** Mean over the samples in run A and in run B. */
  a: number;
  b: number;
  /** Mean of B − A and its percentile bootstrap interval. */
  difference: number;
  interval: [number, number];
  /** "B" or "A" when the interval excludes 0 on the better side, else "neither". */
  better: "A" | "B" | "neither";
}

export interface RunComparison {
  evaluation: string;
  samples: number;
  resamples: number;
  level: number;
  rows: ComparedMetric[];
}

type PerSample = Map<string, Map<string, number[]>>; // metric → method → value per sample (by index order)

function perturbationValues(journal: ParsedJournal): PerSample {
  const out: PerSample = new Map([
    ["AUAC", new Map()],
    ["AUPC", new Map()],
    ["AU-MSE", new Map()],
  ]);
  for (const r of journal.records) {
    const curves = (r.result as { curves: Record<string, PerturbationCurves> }).curves;
    for (const [method, c] of Object.entries(curves)) {
      const put = (metric: string, v: number) => {
        const m = out.get(metric)!;
        if (!m.has(method)) m.set(method, []);
        m.get(method)!.push(v);
      };
      put("AUAC", trapezoid(c.generate, FRACTIONS));
      put("AUPC", trapezoid(c.pruning, FRACTIONS));
      put("AU-MSE", trapezoid(c.mse, FRACTIONS));
    }
  }
  return out;
}

function conservationValues(journal: ParsedJournal): PerSample {
  const gap = new Map<string, number[]>();
  for (const r of journal.records) {
    const point = (r.result as { point: { logit: number; sums: Record<string, number> } }).point;
    for (const [method, sum] of Object.entries(point.sums)) {
      if (!gap.has(method)) gap.set(method, []);
      gap.get(method)!.push(Math.abs(sum - point.logit));
    }
  }
  return new Map([["|ΣR − f|", gap]]);
}

const HIGHER_IS_BETTER: Record<string, boolean> = {
  AUAC: true,
  AUPC: true,
  "AU-MSE": false,
  "|ΣR − f|": false,
};

/**
 * Compare run B with run A, both complete runs of the same evaluation on the same model and data
 * (their journals); every method present in both is compared on every metric.
 */
export function compareRuns(
  a: ParsedJournal,
  b: ParsedJournal,
  names: [string, string],
  seed = 0,
): RunComparison {
  const [ia, ib] = [a.header.identity, b.header.identity];
  if (ia.evaluation !== ib.evaluation)
    throw new XaitError(`${names[0]} is a ${ia.evaluation} run, ${names[1]} a ${ib.evaluation} run`);
  if (ia.evaluation !== "perturbation" && ia.evaluation !== "conservation")
    throw new XaitError(
      `compare: ${ia.evaluation} runs cannot be compared (perturbation and conservation can)`,
    );
  for (const key of ["model", "data", "samples"] as const)
    if (ia[key] !== ib[key])
      throw new XaitError(`${names[0]} and ${names[1]} differ in their ${key}: not the same samples`);
  const indices = (j: ParsedJournal) => j.records.map((r) => r.i).sort((x, y) => x - y);
  const [sa, sb] = [indices(a), indices(b)];
  if (sa.length !== ia.samples || sb.length !== ib.samples)
    throw new XaitError(
      `compare: both runs must be complete (${names[0]}: ${sa.length}, ${names[1]}: ${sb.length} of ${ia.samples} samples)`,
    );
  const sorted = (j: ParsedJournal): ParsedJournal => ({
    ...j,
    records: [...j.records].sort((x, y) => x.i - y.i),
  });
  const values = ia.evaluation === "perturbation" ? perturbationValues : conservationValues;
  const [va, vb] = [values(sorted(a)), values(sorted(b))];
  const methods = ia.methods.filter((m) => ib.methods.includes(m));
  if (methods.length === 0) throw new XaitError(`${names[0]} and ${names[1]} have no method in common`);
  const n = sa.length;
  const rng = new Random(seed);
  const picks: Int32Array[] = Array.from({ length: BOOTSTRAP_RESAMPLES }, () => {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = Math.floor(rng.next() * n);
    return p;
  });
  const tail = (1 - BOOTSTRAP_LEVEL) / 2;
  const rows: ComparedMetric[] = [];
  for (const [metric, byMethod] of va)
    for (const method of methods) {
      const x = byMethod.get(method)!;
      const y = vb.get(metric)!.get(method)!;
      const d = x.map((v, i) => y[i]! - v);
      const means = new Float64Array(BOOTSTRAP_RESAMPLES);
      picks.forEach((p, k) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += d[p[i]!]!;
        means[k] = s / n;
      });
      means.sort();
      const interval: [number, number] = [quantileSorted(means, tail), quantileSorted(means, 1 - tail)];
      const higher = HIGHER_IS_BETTER[metric]!;
      const better =
        interval[0] > 0 ? (higher ? "B" : "A") : interval[1] < 0 ? (higher ? "A" : "B") : "neither";
      rows.push({
        metric,
        method,
        higherIsBetter: higher,
        a: mean(x),
        b: mean(y),
        difference: mean(d),
        interval,
        better,
      });
    }
  return {
    evaluation: ia.evaluation,
    samples: n,
    resamples: BOOTSTRAP_RESAMPLES,
    level: BOOTSTRAP_LEVEL,
    rows,
  };
}
