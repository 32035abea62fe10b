/**
 * Small standalone SVG plots for the evaluation reports (perturbation curves, conservation
 * scatter): axes with 1/2/5 ticks, axis labels, a legend, and series told apart by a
 * colour-blind-safe palette (Okabe–Ito) combined with dash patterns or marker shapes, so that a
 * dozen methods stay distinguishable. All text is escaped; no external resources.
 */
import { CATEGORICAL } from "./colors.js";
import { escapeXml as esc } from "./escape.js";

export interface Series {
  name: string;
  xs: readonly number[];
  ys: readonly number[];
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  /** Total width in px including legend (default 560). */
  width?: number;
  /** Total height in px (default 380; grows if the legend needs it). */
  height?: number;
}

export interface ScatterOptions extends PlotOptions {
  /** Draw the line y = x (and use the same range on both axes). */
  diagonal?: boolean;
}

export interface Ticks {
  /** The axis range, widened to whole steps. */
  min: number;
  max: number;
  /** 1, 2 or 5 times a power of ten. */
  step: number;
  ticks: number[];
  /** Decimals needed to print the ticks. */
  decimals: number;
}

/** Round numbers covering [min, max] with at most about `maxTicks` steps of 1, 2 or 5 × 10^k. */
export function niceTicks(min: number, max: number, maxTicks = 6): Ticks {
  if (!Number.isFinite(min) || !Number.isFinite(max)) [min, max] = [0, 1];
  if (min > max) [min, max] = [max, min];
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    [min, max] = [min - pad, max + pad];
  }
  const rough = (max - min) / Math.max(1, maxTicks - 1);
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const residual = rough / magnitude;
  // The nearest of 1, 2, 5, 10 on a log scale.
  const factor = residual < Math.SQRT2 ? 1 : residual < Math.sqrt(10) ? 2 : residual < Math.sqrt(50) ? 5 : 10;
  const step = factor * magnitude;
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const round = (v: number): number => Number(v.toFixed(Math.min(20, decimals)));
  const lo = Math.floor(min / step + 1e-9);
  const hi = Math.ceil(max / step - 1e-9);
  const ticks: number[] = [];
  for (let k = lo; k <= hi; k++) ticks.push(round(k * step));
  return { min: ticks[0]!, max: ticks[ticks.length - 1]!, step: round(step), ticks, decimals };
}

/** A tick label with the decimals of its step (`-0` printed as `0`). */
export function formatTick(v: number, decimals: number): string {
  const s = v.toFixed(Math.min(20, decimals));
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

const DASHES = ["", "7 4", "2 3", "9 3 2 3"];
const MARKERS = ["circle", "square", "triangle", "diamond", "cross"] as const;
type Marker = (typeof MARKERS)[number];

/** Colour, dash pattern and marker of the i-th series: colours cycle first, then dashes/markers change. */
export function seriesStyle(i: number): { color: string; dash: string; marker: Marker } {
  const n = CATEGORICAL.length;
  return {
    color: CATEGORICAL[i % n]!,
    dash: DASHES[Math.floor(i / n) % DASHES.length]!,
    marker: MARKERS[(i + Math.floor(i / n)) % MARKERS.length]!,
  };
}

const FONT = `font-family="sans-serif"`;
const num = (v: number): string => String(Math.round(v * 100) / 100);

function markerSvg(kind: Marker, x: number, y: number, color: string, size = 3.5): string {
  const common = `fill="${color}" fill-opacity="0.8" stroke="${color}" stroke-width="1"`;
  switch (kind) {
    case "circle":
      return `<circle cx="${num(x)}" cy="${num(y)}" r="${size}" ${common}/>`;
    case "square":
      return `<rect x="${num(x - size)}" y="${num(y - size)}" width="${2 * size}" height="${2 * size}" ${common}/>`;
    case "triangle":
      return `<polygon points="${num(x)},${num(y - size * 1.2)} ${num(x - size * 1.1)},${num(y + size * 0.8)} ${num(x + size * 1.1)},${num(y + size * 0.8)}" ${common}/>`;
    case "diamond":
      return `<polygon points="${num(x)},${num(y - size * 1.3)} ${num(x + size)},${num(y)} ${num(x)},${num(y + size * 1.3)} ${num(x - size)},${num(y)}" ${common}/>`;
    case "cross":
      return (
        `<path d="M${num(x - size)} ${num(y - size)}L${num(x + size)} ${num(y + size)}` +
        `M${num(x - size)} ${num(y + size)}L${num(x + size)} ${num(y - size)}" stroke="${color}" stroke-width="2" fill="none"/>`
      );
  }
}

interface Frame {
  svg: string[];
  sx: (v: number) => number;
  sy: (v: number) => number;
  xTicks: Ticks;
  yTicks: Ticks;
  plot: { left: number; right: number; top: number; bottom: number };
}

function finiteExtent(values: Iterable<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

/** The shared frame: background, title, grid, axes, tick labels, axis labels and legend. */
function frame(
  o: PlotOptions,
  legendSample: (i: number, x: number, y: number) => string,
  sameRange: boolean,
): Frame {
  const longest = Math.max(0, ...o.series.map((s) => [...s.name].length));
  const legendWidth = o.series.length > 0 ? 40 + Math.min(longest, 28) * 6.6 : 0;
  const width = Math.max(240, o.width ?? 560);
  const top = 40;
  const bottom = 52;
  const left = 70;
  const rowHeight = 17;
  const height = Math.max(o.height ?? 380, top + bottom + o.series.length * rowHeight + 10);
  const plot = { left, right: width - legendWidth - 16, top, bottom: height - bottom };

  let [x0, x1] = finiteExtent(o.series.flatMap((s) => s.xs));
  let [y0, y1] = finiteExtent(o.series.flatMap((s) => s.ys));
  if (sameRange) {
    [x0, x1] = [Math.min(x0, y0), Math.max(x1, y1)];
    [y0, y1] = [x0, x1];
  }
  const xTicks = niceTicks(x0, x1);
  const yTicks = niceTicks(y0, y1);
  const sx = (v: number): number =>
    plot.left + ((v - xTicks.min) / (xTicks.max - xTicks.min)) * (plot.right - plot.left);
  const sy = (v: number): number =>
    plot.bottom - ((v - yTicks.min) / (yTicks.max - yTicks.min)) * (plot.bottom - plot.top);

  const svg: string[] = [];
  svg.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `role="img" aria-label="${esc(o.title)}">`,
  );
  svg.push(`<title>${esc(o.title)}</title>`);
  svg.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  svg.push(
    `<text x="${num((plot.left + plot.right) / 2)}" y="22" text-anchor="middle" font-size="14" font-weight="bold" ${FONT}>${esc(o.title)}</text>`,
  );
  const grid: string[] = [];
  for (const t of xTicks.ticks) {
    const x = num(sx(t));
    grid.push(`<line x1="${x}" y1="${plot.top}" x2="${x}" y2="${plot.bottom}" stroke="#e5e5e5"/>`);
    grid.push(`<line x1="${x}" y1="${plot.bottom}" x2="${x}" y2="${plot.bottom + 5}" stroke="#444"/>`);
    grid.push(
      `<text x="${x}" y="${plot.bottom + 18}" text-anchor="middle" font-size="11" ${FONT}>${esc(formatTick(t, xTicks.decimals))}</text>`,
    );
  }
  for (const t of yTicks.ticks) {
    const y = num(sy(t));
    grid.push(`<line x1="${plot.left}" y1="${y}" x2="${plot.right}" y2="${y}" stroke="#e5e5e5"/>`);
    grid.push(`<line x1="${plot.left - 5}" y1="${y}" x2="${plot.left}" y2="${y}" stroke="#444"/>`);
    grid.push(
      `<text x="${plot.left - 8}" y="${y}" dy="0.35em" text-anchor="end" font-size="11" ${FONT}>${esc(formatTick(t, yTicks.decimals))}</text>`,
    );
  }
  svg.push(`<g class="grid">${grid.join("")}</g>`);
  svg.push(
    `<rect x="${plot.left}" y="${plot.top}" width="${num(plot.right - plot.left)}" height="${num(plot.bottom - plot.top)}" fill="none" stroke="#444"/>`,
  );
  svg.push(
    `<text x="${num((plot.left + plot.right) / 2)}" y="${height - 12}" text-anchor="middle" font-size="12" ${FONT}>${esc(o.xLabel)}</text>`,
  );
  const ly = num((plot.top + plot.bottom) / 2);
  svg.push(
    `<text transform="translate(18 ${ly}) rotate(-90)" text-anchor="middle" font-size="12" ${FONT}>${esc(o.yLabel)}</text>`,
  );
  const legend: string[] = [];
  o.series.forEach((s, i) => {
    const x = plot.right + 14;
    const y = plot.top + 8 + i * rowHeight;
    const name = [...s.name].length > 28 ? [...s.name].slice(0, 27).join("") + "…" : s.name;
    legend.push(legendSample(i, x, y));
    legend.push(`<text x="${x + 30}" y="${y}" dy="0.35em" font-size="11" ${FONT}>${esc(name)}</text>`);
  });
  if (legend.length > 0) svg.push(`<g class="legend">${legend.join("")}</g>`);
  return { svg, sx, sy, xTicks, yTicks, plot };
}

/** Line plot: one polyline per series (broken at non-finite points). */
export function linePlot(o: PlotOptions): string {
  const lineAttrs = (i: number): string => {
    const st = seriesStyle(i);
    return `fill="none" stroke="${st.color}" stroke-width="2" stroke-linejoin="round"${st.dash ? ` stroke-dasharray="${st.dash}"` : ""}`;
  };
  const f = frame(
    o,
    (i, x, y) => `<line x1="${x}" y1="${y}" x2="${x + 24}" y2="${y}" ${lineAttrs(i)}/>`,
    false,
  );
  o.series.forEach((s, i) => {
    let d = "";
    let pen = false;
    const n = Math.min(s.xs.length, s.ys.length);
    for (let k = 0; k < n; k++) {
      const [x, y] = [s.xs[k]!, s.ys[k]!];
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        pen = false;
        continue;
      }
      d += `${pen ? "L" : "M"}${num(f.sx(x))} ${num(f.sy(y))}`;
      pen = true;
    }
    if (d) f.svg.push(`<path d="${d}" ${lineAttrs(i)}><title>${esc(s.name)}</title></path>`);
  });
  f.svg.push(`</svg>`);
  return f.svg.join("\n");
}

/** Scatter plot: one marker shape and colour per series; optionally the diagonal y = x. */
export function scatterPlot(o: ScatterOptions): string {
  const f = frame(
    o,
    (i, x, y) => markerSvg(seriesStyle(i).marker, x + 12, y, seriesStyle(i).color),
    o.diagonal ?? false,
  );
  if (o.diagonal) {
    const lo = f.xTicks.min;
    const hi = f.xTicks.max;
    f.svg.push(
      `<line class="diagonal" x1="${num(f.sx(lo))}" y1="${num(f.sy(lo))}" x2="${num(f.sx(hi))}" y2="${num(f.sy(hi))}" ` +
        `stroke="#888" stroke-width="1" stroke-dasharray="4 3"/>`,
    );
  }
  o.series.forEach((s, i) => {
    const st = seriesStyle(i);
    const marks: string[] = [];
    const n = Math.min(s.xs.length, s.ys.length);
    for (let k = 0; k < n; k++) {
      const [x, y] = [s.xs[k]!, s.ys[k]!];
      if (Number.isFinite(x) && Number.isFinite(y))
        marks.push(markerSvg(st.marker, f.sx(x), f.sy(y), st.color));
    }
    f.svg.push(`<g class="series"><title>${esc(s.name)}</title>${marks.join("")}</g>`);
  });
  f.svg.push(`</svg>`);
  return f.svg.join("\n");
}

/** Compose standalone SVGs into one, side by side (left to right, top-aligned). */
export function sideBySide(svgs: readonly string[], gap = 12): string {
  let x = 0;
  let height = 0;
  const panels = svgs.map((raw) => {
    const svg = raw.replace(/^\s*<\?xml[^>]*\?>\s*/, "");
    const open = /<svg\b[^>]*>/.exec(svg)?.[0] ?? "";
    const w = Number(/\bwidth="([\d.]+)"/.exec(open)?.[1] ?? 0);
    const h = Number(/\bheight="([\d.]+)"/.exec(open)?.[1] ?? 0);
    const placed = svg.replace(/<svg\b/, `<svg x="${x}" y="0"`);
    x += w + gap;
    height = Math.max(height, h);
    return placed;
  });
  const width = Math.max(0, x - gap);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">\n` +
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>\n${panels.join("\n")}\n</svg>`
  );
}
