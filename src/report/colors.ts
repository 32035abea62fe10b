/**
 * Colours for relevance heatmaps: a diverging, colour-blind-safe scale (ColorBrewer RdBu with a
 * pure white centre) where red supports the target class (positive relevance), blue speaks against
 * it (negative relevance) and white is neutral. Scores are scaled per method by max |R|.
 */

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

/** RdBu anchors from the most negative (dark blue, t = −1) to the most positive (dark red, t = +1). */
const DIVERGING_ANCHORS: readonly Rgb[] = [
  { r: 5, g: 48, b: 97 }, // #053061
  { r: 33, g: 102, b: 172 }, // #2166ac
  { r: 67, g: 147, b: 195 }, // #4393c3
  { r: 146, g: 197, b: 222 }, // #92c5de
  { r: 209, g: 229, b: 240 }, // #d1e5f0
  { r: 255, g: 255, b: 255 }, // neutral
  { r: 253, g: 219, b: 199 }, // #fddbc7
  { r: 244, g: 165, b: 130 }, // #f4a582
  { r: 214, g: 96, b: 77 }, // #d6604d
  { r: 178, g: 24, b: 43 }, // #b2182b
  { r: 103, g: 0, b: 31 }, // #67001f
];

export const NEUTRAL: Rgb = { r: 255, g: 255, b: 255 };

/** The diverging scale at t ∈ [−1, 1] (clamped), linearly interpolated between the anchors. */
export function divergingColor(t: number): Rgb {
  if (!Number.isFinite(t)) return { ...NEUTRAL };
  const u = ((Math.max(-1, Math.min(1, t)) + 1) / 2) * (DIVERGING_ANCHORS.length - 1);
  const i = Math.min(Math.floor(u), DIVERGING_ANCHORS.length - 2);
  const f = u - i;
  const a = DIVERGING_ANCHORS[i]!;
  const b = DIVERGING_ANCHORS[i + 1]!;
  return {
    r: Math.round(a.r + (b.r - a.r) * f),
    g: Math.round(a.g + (b.g - a.g) * f),
    b: Math.round(a.b + (b.b - a.b) * f),
  };
}

/** The largest |score| among the finite scores (0 when there is none). */
export function maxAbs(scores: readonly number[]): number {
  let m = 0;
  for (const s of scores) if (Number.isFinite(s) && Math.abs(s) > m) m = Math.abs(s);
  return m;
}

/** The colour of relevance `r` on a scale where ±maxAbs are the saturated ends. */
export function relevanceColor(r: number, maxAbsValue: number): Rgb {
  if (!Number.isFinite(r) || !(maxAbsValue > 0) || !Number.isFinite(maxAbsValue)) return { ...NEUTRAL };
  return divergingColor(r / maxAbsValue);
}

/** WCAG relative luminance of an sRGB colour, in [0, 1]. */
export function luminance(c: Rgb): number {
  const lin = (v: number): number => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
}

/** WCAG contrast ratio of two colours (1 … 21). */
export function contrastRatio(a: Rgb, b: Rgb): number {
  const la = luminance(a);
  const lb = luminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

export const DARK_TEXT: Rgb = { r: 0, g: 0, b: 0 };
export const LIGHT_TEXT: Rgb = { r: 255, g: 255, b: 255 };

/** The text colour with the better contrast on `background`: dark on light colours, white on saturated ones. */
export function textColor(background: Rgb): Rgb {
  return contrastRatio(LIGHT_TEXT, background) > contrastRatio(DARK_TEXT, background)
    ? { ...LIGHT_TEXT }
    : { ...DARK_TEXT };
}

/** `#rrggbb`. */
export function toHex(c: Rgb): string {
  return "#" + [c.r, c.g, c.b].map((v) => v.toString(16).padStart(2, "0")).join("");
}

/** `rgb(r, g, b)` as browsers report computed colours. */
export function toCssRgb(c: Rgb): string {
  return `rgb(${c.r}, ${c.g}, ${c.b})`;
}

const CUBE_LEVELS = [0, 95, 135, 175, 215, 255];

/**
 * The nearest xterm 256-colour index: the 6×6×6 cube (16–231), or the grey ramp (232–255) for grey
 * colours only — a pale tint must keep its hue, since the hue carries the sign of a score.
 */
export function toAnsi256(c: Rgb): number {
  const nearestLevel = (v: number): number => {
    let best = 0;
    for (let i = 1; i < CUBE_LEVELS.length; i++)
      if (Math.abs(CUBE_LEVELS[i]! - v) < Math.abs(CUBE_LEVELS[best]! - v)) best = i;
    return best;
  };
  const [ri, gi, bi] = [nearestLevel(c.r), nearestLevel(c.g), nearestLevel(c.b)];
  const cube = 16 + 36 * ri + 6 * gi + bi;
  const grey = Math.max(c.r, c.g, c.b) - Math.min(c.r, c.g, c.b) <= 4;
  if (!grey || ri !== gi || gi !== bi) return cube;
  const mean = (c.r + c.g + c.b) / 3;
  const k = Math.max(0, Math.min(23, Math.round((mean - 8) / 10)));
  const rampDist = Math.abs(8 + 10 * k - mean);
  return rampDist < Math.abs(CUBE_LEVELS[ri]! - mean) ? 232 + k : cube;
}

/** The colour of an xterm 256-colour index (cube and grey ramp; the 16 system colours are not fixed). */
export function ansi256ToRgb(n: number): Rgb {
  if (n < 16) return { ...NEUTRAL };
  if (n >= 232) {
    const v = 8 + 10 * (n - 232);
    return { r: v, g: v, b: v };
  }
  const i = n - 16;
  return {
    r: CUBE_LEVELS[Math.floor(i / 36)]!,
    g: CUBE_LEVELS[Math.floor(i / 6) % 6]!,
    b: CUBE_LEVELS[i % 6]!,
  };
}

/**
 * Okabe & Ito's colour-blind-safe categorical palette (yellow left out: too faint on white),
 * for lines and markers in plots.
 */
export const CATEGORICAL: readonly string[] = [
  "#0072B2", // blue
  "#D55E00", // vermillion
  "#009E73", // bluish green
  "#CC79A7", // reddish purple
  "#E69F00", // orange
  "#56B4E9", // sky blue
  "#000000", // black
];
