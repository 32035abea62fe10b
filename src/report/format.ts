/** Number formats shared by the terminal and HTML reports. */

/** A signed score: `+0.123`, `-1.500`, `+2.1e-5`; `NaN`/`∞` as such. */
export function formatScore(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "+∞" : "-∞";
  const a = Math.abs(x);
  const body = a !== 0 && (a < 1e-3 || a >= 1e5) ? a.toExponential(2) : a.toFixed(3);
  return (x < 0 ? "-" : "+") + body;
}

/** An unsigned quantity (a logit, a sum) with four decimals, or in exponent form when very large/small. */
export function formatNumber(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "∞" : "-∞";
  const a = Math.abs(x);
  const s = a !== 0 && (a < 1e-4 || a >= 1e6) ? x.toExponential(3) : x.toFixed(4);
  return s === "-0.0000" ? "0.0000" : s;
}

/** A probability as a percentage with one decimal: `97.3%`. */
export function formatPercent(p: number): string {
  return Number.isFinite(p) ? `${(p * 100).toFixed(1)}%` : "NaN";
}
