/**
 * The classifier's result as DOM: the prediction with its probabilities, then one heat-mapped row per
 * method with the conservation line, in the colours and words of the HTML report. Every string from
 * the model or the input is set as text (never parsed as HTML), so a hostile label or text shows as
 * what it is.
 */
import type { Explanation, MethodExplanation } from "../explain/result.js";
import { divergingColor, maxAbs, relevanceColor, textColor, toCssRgb, toHex } from "../report/colors.js";
import { formatNumber, formatPercent, formatScore } from "../report/format.js";
import { readPieces } from "../report/words.js";

type Child = Node | string;

/** An element with classes, attributes and children (strings become text nodes). */
export function el(tag: string, props: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") e.className = v;
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

/** One span per token in token order, special tokens included; the score in data-score and title. */
export function heatmap(tokens: readonly string[], scores: readonly number[]): HTMLElement {
  const row = el("p", { class: "heatmap" });
  const scale = maxAbs(scores);
  readPieces(tokens).forEach((p, i) => {
    const score = scores[i] ?? NaN;
    const bg = relevanceColor(score, scale);
    const classes = ["tok", p.special ? "special" : "", p.startsWord ? "" : "cont"].filter(Boolean).join(" ");
    const text = p.display.replace(/\r?\n/g, "↵").replace(/\t/g, "⇥");
    const span = el(
      "span",
      {
        class: classes,
        "data-score": String(score),
        title: `${tokens[i]}: ${formatScore(score)}`,
        tabindex: "0",
      },
      text,
    );
    span.style.backgroundColor = toCssRgb(bg);
    span.style.color = toHex(textColor(bg));
    if (i > 0 && p.spaceBefore) row.append(" ");
    row.append(span);
  });
  return row;
}

function legend(label: string, scale: number): HTMLElement {
  const stops = Array.from({ length: 11 }, (_, i) => `${toCssRgb(divergingColor(-1 + i / 5))} ${i * 10}%`);
  const bar = el("span", { class: "scale" });
  bar.style.background = `linear-gradient(to right, ${stops.join(", ")})`;
  return el(
    "div",
    { class: "legend" },
    el("span", {}, "against ◀"),
    bar,
    el("span", {}, `▶ supports ${label}`),
    el("span", {}, `(max |score| = ${formatNumber(scale)})`),
  );
}

/** Σ R against the explained logit (and per block for the rule-set methods), as in the HTML report. */
function conservation(m: MethodExplanation): HTMLElement[] {
  if (!m.conservative)
    return [
      el(
        "p",
        { class: "conservation note" },
        "Not a relevance method: scores are not meant to sum to the logit.",
      ),
    ];
  const diff = m.sum - m.logit;
  const rel = m.logit !== 0 ? ` (${((100 * Math.abs(diff)) / Math.abs(m.logit)).toFixed(2)}%)` : "";
  const out = [
    el(
      "p",
      { class: "conservation" },
      "Conservation: Σ R = ",
      el("b", {}, formatNumber(m.sum)),
      " vs logit f = ",
      el("b", {}, formatNumber(m.logit)),
      ` (Σ R − f = ${formatNumber(diff)}${rel})`,
    ),
  ];
  if (m.layers && m.layers.length > 0) {
    const cells = m.layers.map((v, i) => `${i === 0 ? "emb" : `L${i}`} ${formatNumber(v)}`).join(" · ");
    out.push(el("p", { class: "layers" }, `Σ R per layer (embeddings, then after each block): ${cells}`));
  }
  return out;
}

function methodSection(id: string, m: MethodExplanation, expl: Explanation): HTMLElement {
  const heading = el("h3", {}, id);
  if (m.ms !== undefined) heading.append(" ", el("small", {}, `${m.ms.toFixed(0)} ms`));
  return el(
    "section",
    { class: "method", "data-method": id, ...(m.ms !== undefined ? { "data-ms": String(m.ms) } : {}) },
    heading,
    ...conservation(m),
    heatmap(expl.tokens, m.attributions),
    legend(expl.label, maxAbs(m.attributions)),
  );
}

function probabilities(expl: Explanation): HTMLElement {
  const table = el("table", { class: "probs" });
  expl.labels.forEach((label, k) => {
    const p = expl.probabilities[k] ?? NaN;
    const fill = el("span");
    fill.style.width = `${Number.isFinite(p) ? Math.max(0, Math.min(100, p * 100)).toFixed(1) : "0"}%`;
    const marks = [k === expl.predicted ? "predicted" : "", k === expl.target ? "explained" : ""]
      .filter(Boolean)
      .join(", ");
    table.append(
      el(
        "tr",
        { class: k === expl.predicted ? "predicted" : "" },
        el("td", { class: "label" }, label),
        el("td", {}, el("div", { class: "pbar" }, fill)),
        el("td", {}, formatPercent(p)),
        el("td", { class: "note" }, marks),
      ),
    );
  });
  return table;
}

/** The prediction, its probabilities and one section per method. */
/**
 * A classifier's prediction, or a causal language model's next token (its most likely next tokens in
 * the probability table), then one heatmap per method.
 */
export function classifierView(expl: Explanation): HTMLElement[] {
  const lm = expl.targetToken !== undefined;
  const name = (s: string) => (lm ? JSON.stringify(s) : s);
  const prediction = el(
    "p",
    { class: "prediction" },
    lm ? "Next token: " : "Prediction: ",
    el("b", { class: "predicted-label" }, name(expl.predictedLabel)),
    ` (${formatPercent(expl.probabilities[expl.predicted] ?? NaN)})`,
  );
  if (expl.target !== expl.predicted)
    prediction.append(
      lm ? "; explaining token " : "; explaining target ",
      el("b", {}, name(expl.label)),
      ` (${formatPercent(expl.probabilities[expl.target] ?? NaN)})`,
    );
  const methods = Object.entries(expl.explanations).map(([id, m]) => methodSection(id, m, expl));
  return [prediction, probabilities(expl), ...methods];
}
