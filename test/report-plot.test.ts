import { test } from "node:test";
import assert from "node:assert/strict";
import { formatTick, linePlot, niceTicks, scatterPlot, seriesStyle, sideBySide } from "../src/report/plot.js";

/**
 * A small well-formedness check: every tag closes in order, attributes are name="value" with no raw
 * `<` or `&` outside entities, one root element, the root an <svg> with the SVG namespace.
 */
function assertWellFormedSvg(svg: string): void {
  assert.match(svg.trimStart(), /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  const stack: string[] = [];
  let roots = 0;
  const tagRe = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
  let i = 0;
  while (i < svg.length) {
    const lt = svg.indexOf("<", i);
    const text = svg.slice(i, lt === -1 ? svg.length : lt);
    assert.ok(!/&(?!(amp|lt|gt|quot|#39|#\d+);)/.test(text), `bare & in text: ${text}`);
    if (stack.length === 0) assert.equal(text.trim(), "", `text outside the root: ${text}`);
    if (lt === -1) break;
    tagRe.lastIndex = lt;
    const m = tagRe.exec(svg);
    assert.ok(m, `malformed tag at ${lt}: ${svg.slice(lt, lt + 80)}`);
    const [whole, closing, name, attrs, selfClosing] = m;
    for (const a of attrs!.matchAll(/="([^"]*)"/g)) {
      assert.ok(!/&(?!(amp|lt|gt|quot|#39|#\d+);)/.test(a[1]!), `bare & in attribute: ${a[1]}`);
    }
    if (closing) {
      assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    } else {
      if (stack.length === 0) roots++;
      if (!selfClosing) stack.push(name!);
    }
    i = lt + whole.length;
  }
  assert.deepEqual(stack, [], "unclosed elements");
  assert.equal(roots, 1, "one root element");
}

const isNiceStep = (step: number): boolean => {
  const m = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
  return [1, 2, 5].some((k) => Math.abs(m - k) < 1e-9);
};

test("nice ticks: 1/2/5 steps covering the range", () => {
  assert.deepEqual(niceTicks(0, 1).ticks, [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0, 100).ticks, [0, 20, 40, 60, 80, 100]);
  assert.deepEqual(niceTicks(-3.7, 12.2).ticks, [-5, 0, 5, 10, 15]);
  assert.deepEqual(niceTicks(0.3, 0.7).ticks, [0.3, 0.4, 0.5, 0.6, 0.7]);
  let seed = 1;
  const rand = (): number =>
    ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 10 ** Math.floor((seed % 7) - 3);
  for (let k = 0; k < 500; k++) {
    const [a, b] = [rand(), rand()];
    const t = niceTicks(Math.min(a, b), Math.max(a, b));
    assert.ok(isNiceStep(t.step), `step ${t.step}`);
    assert.ok(t.min <= Math.min(a, b) + 1e-12 && t.max >= Math.max(a, b) - 1e-12, `${a},${b} → ${t.ticks}`);
    assert.ok(t.ticks.length >= 2 && t.ticks.length <= 12, `${t.ticks.length} ticks`);
    for (let j = 1; j < t.ticks.length; j++)
      assert.ok(Math.abs(t.ticks[j]! - t.ticks[j - 1]! - t.step) < t.step * 1e-6);
  }
});

test("nice ticks: degenerate ranges", () => {
  const same = niceTicks(3, 3);
  assert.ok(same.min < 3 && same.max > 3);
  const zero = niceTicks(0, 0);
  assert.ok(zero.min < 0 && zero.max > 0);
  assert.deepEqual(niceTicks(NaN, Infinity).ticks, [0, 0.2, 0.4, 0.6, 0.8, 1]);
});

test("tick labels use the step's decimals and no negative zero", () => {
  assert.equal(formatTick(0.2, 1), "0.2");
  assert.equal(formatTick(-0, 1), "0.0");
  assert.equal(formatTick(-1e-17, 2), "0.00");
  assert.equal(formatTick(20, 0), "20");
});

test("line plot: well-formed standalone SVG with axes, labels and legend", () => {
  const xs = [0, 0.1, 0.2, 0.3, 0.4, 0.5];
  const svg = linePlot({
    title: "Activation",
    xLabel: "fraction of tokens added",
    yLabel: "logit",
    series: [
      { name: "lrp", xs, ys: [0, 1, 2, 2.5, 2.7, 2.8] },
      { name: "random", xs, ys: [0, 0.2, NaN, 0.5, 0.9, 1.2] },
    ],
  });
  assertWellFormedSvg(svg);
  assert.ok(svg.includes(">Activation</text>"));
  assert.ok(svg.includes(">fraction of tokens added</text>"));
  assert.ok(svg.includes("rotate(-90)") && svg.includes(">logit</text>"));
  assert.ok(svg.includes(">0.5</text>") && svg.includes(">3.0</text>"), "tick labels");
  assert.equal((svg.match(/<path d="M/g) ?? []).length, 2);
  assert.ok(svg.includes(`d="M`) && /<path d="M[^"]*M/.test(svg), "the NaN breaks the second line");
  assert.ok(!svg.includes("NaN"));
  assert.ok(!/<script|<image|href=|url\(/.test(svg), "no external references");
});

test("text in plots is escaped", () => {
  const svg = scatterPlot({
    title: `a<b & "c"`,
    xLabel: "x's",
    yLabel: "<script>alert(1)</script>",
    series: [{ name: "<img src=x onerror=alert(1)>", xs: [1], ys: [2] }],
  });
  assertWellFormedSvg(svg);
  assert.ok(svg.includes("a&lt;b &amp; &quot;c&quot;"));
  assert.ok(svg.includes("x&#39;s"));
  assert.ok(!svg.includes("<script") && !svg.includes("<img"));
});

test("13 series stay distinguishable: unique colour/dash and colour/marker pairs, all in the legend", () => {
  const styles = Array.from({ length: 13 }, (_, i) => seriesStyle(i));
  assert.equal(new Set(styles.map((s) => `${s.color}|${s.dash}`)).size, 13);
  assert.equal(new Set(styles.map((s) => `${s.color}|${s.marker}`)).size, 13);
  const series = styles.map((_, i) => ({ name: `method-${i}`, xs: [0, 1], ys: [i, i + 1] }));
  const svg = linePlot({ title: "t", xLabel: "x", yLabel: "y", series });
  assertWellFormedSvg(svg);
  for (let i = 0; i < 13; i++) assert.ok(svg.includes(`>method-${i}</text>`));
  assert.ok(svg.includes(`stroke-dasharray="7 4"`));
});

test("scatter plot with the diagonal uses one range for both axes", () => {
  const svg = scatterPlot({
    title: "Conservation",
    xLabel: "logit f",
    yLabel: "Σ R",
    series: [
      { name: "lrp", xs: [0.5, 3.2], ys: [0.5, 3.1] },
      { name: "gi", xs: [0.5, 3.2], ys: [-2.1, 7.4] },
    ],
    diagonal: true,
  });
  assertWellFormedSvg(svg);
  assert.ok(svg.includes(`class="diagonal"`));
  const xTicks = [...svg.matchAll(/text-anchor="middle" font-size="11"[^>]*>([^<]+)</g)].map((m) => m[1]);
  const yTicks = [...svg.matchAll(/text-anchor="end" font-size="11"[^>]*>([^<]+)</g)].map((m) => m[1]);
  assert.deepEqual(xTicks, yTicks);
  assert.ok(xTicks.includes("-4") && xTicks.includes("8"), xTicks.join(","));
});

test("side by side: panels composed into one SVG", () => {
  const a = linePlot({ title: "A", xLabel: "x", yLabel: "y", series: [], width: 300, height: 200 });
  const b = linePlot({ title: "B", xLabel: "x", yLabel: "y", series: [], width: 400, height: 250 });
  const both = sideBySide([a, b]);
  assertWellFormedSvg(both);
  assert.match(both, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="712" height="250"/);
  assert.ok(both.includes(`<svg x="0" y="0" xmlns=`));
  assert.ok(both.includes(`<svg x="312" y="0" xmlns=`));
});
