import { test } from "node:test";
import assert from "node:assert/strict";
import type { Explanation } from "../src/explain/result.js";
import { exampleExplanation } from "./helpers/example-explanation.js";
import { renderHtml } from "../src/report/html.js";

const HOSTILE = "<img src=x onerror=alert(1)>";

const example = (over: Partial<Explanation> = {}): Explanation => exampleExplanation(over);

function hostile(): Explanation {
  const tokens = [
    "[CLS]",
    "<",
    "img",
    "src",
    "=",
    "x",
    "onerror",
    "=",
    "alert",
    "(",
    "1",
    ")",
    ">",
    HOSTILE,
    "[SEP]",
  ];
  return example({
    model: `models/"><script>alert('m')</script>`,
    text: HOSTILE,
    pair: `it's "quoted" & <b>bold</b>`,
    tokens,
    ids: tokens.map((_, i) => i),
    label: "<svg onload=alert(2)>",
    predictedLabel: "<svg onload=alert(2)>",
    labels: ["neg'", "<svg onload=alert(2)>"],
    explanations: {
      "<i>lrp</i>": {
        attributions: tokens.map((_, i) => i - 7),
        sum: 0,
        logit: 0,
        conservative: true,
        layers: [0, 0],
      },
    },
  });
}

/** The spans with class "tok", in document order, with their data-score. */
function tokSpans(html: string): { score: number; text: string }[] {
  return [...html.matchAll(/<span class="tok[^"]*" data-score="([^"]*)"[^>]*>([^<]*)<\/span>/g)].map((m) => ({
    score: Number(m[1]),
    text: m[2]!,
  }));
}

test("hostile input appears only escaped", () => {
  const html = renderHtml(hostile(), {
    command: `xait explain --text '${HOSTILE}'`,
    model: `<b onmouseover=x>`,
  });
  assert.ok(!/<img/i.test(html), "no img element");
  assert.ok(!/<script/i.test(html), "no script element");
  assert.ok(!/<svg/i.test(html), "no svg element");
  assert.ok(!/<b onmouseover/i.test(html) && !/<b>bold/i.test(html));
  assert.ok(!/<i>lrp/.test(html));
  assert.ok(html.includes("&lt;img src=x onerror=alert(1)&gt;"));
  assert.ok(html.includes("it&#39;s &quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt;"));
  assert.ok(html.includes("xait explain --text &#39;&lt;img"));
  assert.ok(html.includes("neg&#39;"));
  // Every attribute value stays inside its quotes: no stray quote from the input closes one.
  for (const m of html.matchAll(/title="([^"]*)"/g)) assert.ok(!m[1]!.includes("<"));
});

test("self-contained: no external resources of any kind", () => {
  const html = renderHtml([example(), example({ target: 0, label: "negative" })], {
    command: "xait explain --model models/tiny-sst2 --text 'the movie was unbelievably good'",
  });
  assert.ok(html.startsWith("<!DOCTYPE html>"));
  assert.ok(html.includes("<style>"));
  for (const forbidden of [
    "http",
    "src=",
    "//",
    "<link",
    "@import",
    "url(",
    "href=",
    "<script",
    "<iframe",
    "@font-face",
  ]) {
    assert.ok(!html.toLowerCase().includes(forbidden), `contains ${forbidden}`);
  }
});

test("one span per token, in token order, special tokens included", () => {
  const expl = example();
  const html = renderHtml(expl, {});
  const spans = tokSpans(html);
  assert.equal(spans.length, expl.tokens.length * Object.keys(expl.explanations).length);
  assert.deepEqual(
    spans.slice(0, expl.tokens.length).map((s) => s.score),
    expl.explanations.lrp!.attributions,
  );
  assert.deepEqual(
    spans.slice(0, 3).map((s) => s.text),
    ["[CLS]", "the", "movie"],
  );
  assert.equal((html.match(/class="tok special"/g) ?? []).length, 4);
  assert.equal((html.match(/tabindex="0"/g) ?? []).length, spans.length);
  // Hostile tokens: one span each as well.
  const h = hostile();
  assert.equal(tokSpans(renderHtml(h, {})).length, h.tokens.length);
});

test("tokens carry their score in the title and a hover/focus tooltip", () => {
  const html = renderHtml(example(), {});
  assert.ok(html.includes(`title="good: +1.500"`));
  assert.ok(html.includes(`title="##believ: +0.400"`));
  assert.match(html, /\.tok:hover::after, \.tok:focus::after \{ content: attr\(title\)/);
});

test("colours: the most relevant token is saturated red with white text, negative ones blue", () => {
  const html = renderHtml(example(), {});
  assert.ok(html.includes(`style="background-color:rgb(103, 0, 31);color:#ffffff">good</span>`));
  const the = /style="background-color:rgb\((\d+), (\d+), (\d+)\);color:#000000">the</.exec(html);
  assert.ok(the && Number(the[3]) > Number(the[1]), "negative relevance is bluish");
});

test("prediction, class probabilities, conservation, layers, model and command are shown", () => {
  const html = renderHtml(example({ target: 0, label: "negative" }), { command: "xait explain" });
  assert.match(html, /Prediction: <b>positive<\/b> \(97\.0%\); explaining target <b>negative<\/b> \(3\.0%\)/);
  assert.match(html, /<td class="label">negative<\/td><td><div class="pbar"><span style="width:3\.0%">/);
  assert.match(html, /<td class="label">positive<\/td><td><div class="pbar"><span style="width:97\.0%">/);
  assert.match(html, /Σ R = <b>2\.2800<\/b> vs logit f = <b>2\.3000<\/b>/);
  assert.match(html, /emb 2\.2800 · L1 2\.2850 · L2 2\.2900 · L3 2\.3000/);
  assert.match(html, /Not a relevance method/);
  assert.match(html, /<dt>model<\/dt><dd><code>models\/tiny-sst2<\/code><\/dd>/);
  assert.match(html, /<dt>command<\/dt><dd><code>xait explain<\/code><\/dd>/);
  assert.match(html, /supports negative/);
});

test("print-friendly: backgrounds are kept when printing", () => {
  const html = renderHtml(example(), {});
  const print = html.slice(html.indexOf("@media print"));
  assert.ok(print.includes("print-color-adjust: exact"));
  assert.match(html, /class="legend"/);
});

test("several explanations become several sections", () => {
  const html = renderHtml([example(), example({ text: "second" })], {});
  assert.match(html, /Example 1/);
  assert.match(html, /Example 2/);
  assert.match(html, /<blockquote class="input">second<\/blockquote>/);
});
