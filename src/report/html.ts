/**
 * The HTML report: one self-contained file (inline CSS, no script, no external resources of any
 * kind) with the prediction, the class probabilities and, per method, the text as a token heatmap
 * (red supports the target class, blue speaks against it) and the conservation check. Everything
 * that comes from the input is escaped.
 */
import type { Explanation, MethodExplanation } from "../explain/result.js";
import { divergingColor, maxAbs, relevanceColor, textColor, toCssRgb, toHex } from "./colors.js";
import { escapeXml as esc } from "./escape.js";
import { formatNumber, formatPercent, formatScore } from "./format.js";
import { readPieces } from "./words.js";

export interface HtmlMeta {
  /** The command line that produced the report. */
  command?: string;
  /** The model folder; defaults to the explanations' `model`. */
  model?: string;
}

const STYLE = `
:root { color-scheme: light; }
* { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1a1a1a; background: #fff;
  max-width: 60rem; margin: 1.5rem auto; padding: 0 1rem; }
h1 { font-size: 1.4rem; margin: 0 0 0.5rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 0.5rem; border-bottom: 1px solid #ddd; }
h3 { font-size: 1rem; margin: 1.2rem 0 0.3rem; font-family: ui-monospace, Menlo, Consolas, monospace; }
h3 small { font-weight: normal; color: #666; font-family: system-ui, sans-serif; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 0.8rem; margin: 0; }
dl.meta dt { color: #555; }
dl.meta dd { margin: 0; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.9em; word-break: break-all; }
blockquote.input { margin: 0.5rem 0; padding: 0.4rem 0.8rem; border-left: 3px solid #bbb; background: #f6f6f6;
  white-space: pre-wrap; }
table.probs { border-collapse: collapse; margin: 0.3rem 0; }
table.probs td { padding: 0.1rem 0.5rem 0.1rem 0; }
table.probs tr.predicted td.label { font-weight: bold; }
.pbar { width: 12rem; height: 0.8rem; background: #eee; border: 1px solid #ccc; }
.pbar span { display: block; height: 100%; background: #0072b2; }
.conservation, .layers { margin: 0.2rem 0; color: #333; }
.note { color: #666; font-style: italic; }
.heatmap { line-height: 2.1; margin: 0.4rem 0; }
.tok { position: relative; padding: 0.15em 0.1em; border-radius: 3px; white-space: pre; cursor: default; }
.tok.special { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.8em; }
.tok.cont { margin-left: 1px; }
.tok:focus { outline: 2px solid #000; outline-offset: 1px; }
.tok:hover::after, .tok:focus::after { content: attr(title); position: absolute; left: 0; bottom: calc(100% + 2px);
  background: #222; color: #fff; padding: 0.1em 0.5em; border-radius: 3px; font: 12px/1.4 ui-monospace, monospace;
  white-space: pre; z-index: 10; pointer-events: none; }
.legend { display: flex; align-items: center; gap: 0.5rem; font-size: 0.85rem; color: #444; margin: 0.3rem 0; }
.legend .scale { display: inline-block; width: 12rem; height: 0.9rem; border: 1px solid #ccc; }
footer { margin-top: 2rem; color: #777; font-size: 0.8rem; }
@media print {
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { margin: 0; max-width: none; }
  .tok:hover::after, .tok:focus::after { display: none; }
  .method { break-inside: avoid; }
}
`;

/** One span per token, in token order, special tokens included; score in data-score and title. */
function heatmap(tokens: readonly string[], scores: readonly number[]): string {
  const scale = maxAbs(scores);
  const pieces = readPieces(tokens);
  return pieces
    .map((p, i) => {
      const score = scores[i] ?? NaN;
      const bg = relevanceColor(score, scale);
      const classes = ["tok", p.special ? "special" : "", p.startsWord ? "" : "cont"]
        .filter(Boolean)
        .join(" ");
      const text = p.display.replace(/\r?\n/g, "↵").replace(/\t/g, "⇥");
      const tip = `${tokens[i]}: ${formatScore(score)}`;
      const span =
        `<span class="${classes}" data-score="${esc(String(score))}" title="${esc(tip)}" tabindex="0" ` +
        `style="background-color:${toCssRgb(bg)};color:${toHex(textColor(bg))}">${esc(text)}</span>`;
      return (i > 0 && p.spaceBefore ? " " : "") + span;
    })
    .join("");
}

function legend(label: string, scale: number): string {
  const stops = Array.from({ length: 11 }, (_, i) => {
    const t = -1 + i / 5;
    return `${toCssRgb(divergingColor(t))} ${i * 10}%`;
  }).join(", ");
  return (
    `<div class="legend"><span>against ◀</span>` +
    `<span class="scale" style="background:linear-gradient(to right, ${stops})"></span>` +
    `<span>▶ supports ${esc(label)}</span><span>(max |score| = ${esc(formatNumber(scale))})</span></div>`
  );
}

function conservation(m: MethodExplanation): string {
  if (!m.conservative) {
    return `<p class="conservation note">Not a relevance method: scores are not meant to sum to the logit.</p>`;
  }
  const diff = m.sum - m.logit;
  const rel = m.logit !== 0 ? ` (${((100 * Math.abs(diff)) / Math.abs(m.logit)).toFixed(2)}%)` : "";
  let out =
    `<p class="conservation">Conservation: Σ R = <b>${esc(formatNumber(m.sum))}</b> vs logit f = ` +
    `<b>${esc(formatNumber(m.logit))}</b> (Σ R − f = ${esc(formatNumber(diff))}${esc(rel)})</p>`;
  if (m.layers && m.layers.length > 0) {
    const cells = m.layers.map((v, i) => `${i === 0 ? "emb" : `L${i}`} ${esc(formatNumber(v))}`).join(" · ");
    out += `<p class="layers">Σ R per layer (embeddings, then after each block): ${cells}</p>`;
  }
  return out;
}

function methodSection(id: string, m: MethodExplanation, expl: Explanation): string {
  const ms = m.ms !== undefined ? ` <small>${esc(m.ms.toFixed(0))} ms</small>` : "";
  return (
    `<section class="method">\n<h3>${esc(id)}${ms}</h3>\n${conservation(m)}\n` +
    `<p class="heatmap">${heatmap(expl.tokens, m.attributions)}</p>\n` +
    `${legend(expl.label, maxAbs(m.attributions))}\n</section>`
  );
}

function probabilities(expl: Explanation): string {
  const rows = expl.labels.map((label, k) => {
    const p = expl.probabilities[k] ?? NaN;
    const width = Number.isFinite(p) ? Math.max(0, Math.min(100, p * 100)).toFixed(1) : "0";
    const marks = [k === expl.predicted ? "predicted" : "", k === expl.target ? "explained" : ""]
      .filter(Boolean)
      .join(", ");
    return (
      `<tr class="${k === expl.predicted ? "predicted" : ""}"><td class="label">${esc(label)}</td>` +
      `<td><div class="pbar"><span style="width:${width}%"></span></div></td>` +
      `<td>${esc(formatPercent(p))}</td><td class="note">${esc(marks)}</td></tr>`
    );
  });
  return `<table class="probs">\n${rows.join("\n")}\n</table>`;
}

function exampleSection(expl: Explanation, index: number, count: number): string {
  const heading = count > 1 ? `<h2>Example ${index + 1}</h2>\n` : `<h2>Explanation</h2>\n`;
  const pair = expl.pair !== undefined ? `\n<blockquote class="input">${esc(expl.pair)}</blockquote>` : "";
  const lm = expl.targetToken !== undefined;
  const name = (s: string) => esc(lm ? JSON.stringify(s) : s);
  let prediction =
    `<p>${lm ? "Next token" : "Prediction"}: <b>${name(expl.predictedLabel)}</b> ` +
    `(${esc(formatPercent(expl.probabilities[expl.predicted] ?? NaN))})`;
  if (expl.target !== expl.predicted) {
    prediction +=
      `; explaining ${lm ? "token" : "target"} <b>${name(expl.label)}</b> ` +
      `(${esc(formatPercent(expl.probabilities[expl.target] ?? NaN))})`;
  }
  if (expl.contrast) prediction += `; against <b>${name(expl.contrast.text)}</b>`;
  prediction += "</p>";
  const methods = Object.entries(expl.explanations).map(([id, m]) => methodSection(id, m, expl));
  return (
    `<section class="example">\n${heading}<blockquote class="input">${esc(expl.text)}</blockquote>${pair}\n` +
    `${prediction}\n${probabilities(expl)}\n${methods.join("\n")}\n</section>`
  );
}

/** One self-contained HTML page for one or more explanations. */
export function renderHtml(expl: Explanation | Explanation[], meta: HtmlMeta = {}): string {
  const list = Array.isArray(expl) ? expl : [expl];
  const models = meta.model !== undefined ? [meta.model] : [...new Set(list.map((e) => e.model))];
  const metaRows = [
    models.length > 0
      ? `<dt>model</dt><dd>${models.map((m) => `<code>${esc(m)}</code>`).join(", ")}</dd>`
      : "",
    meta.command !== undefined ? `<dt>command</dt><dd><code>${esc(meta.command)}</code></dd>` : "",
  ].join("");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="xait">
<title>xait explanation</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>xait explanation</h1>
<dl class="meta">${metaRows}</dl>
</header>
<main>
${list.map((e, i) => exampleSection(e, i, list.length)).join("\n")}
</main>
<footer>Red: the token supports the explained class; blue: it speaks against it; white: neutral.
Colours are scaled per method by the largest |score|. Hover or focus a token to see its score.</footer>
</body>
</html>
`;
}
