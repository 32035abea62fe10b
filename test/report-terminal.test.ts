import { test } from "node:test";
import assert from "node:assert/strict";
import type { Explanation } from "../src/explain/result.js";
import { exampleExplanation } from "./helpers/example-explanation.js";
import {
  chooseColorMode,
  displayWidth,
  renderTerminal,
  sanitizeForTerminal,
} from "../src/report/terminal.js";

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;
const strip = (s: string): string => s.replace(ANSI, "");

const example = (over: Partial<Explanation> = {}): Explanation => exampleExplanation(over, "rollout");

test("colour mode: none when not a TTY or NO_COLOR is set (any value)", () => {
  assert.equal(chooseColorMode({ COLORTERM: "truecolor" }, false), "none");
  assert.equal(chooseColorMode({ NO_COLOR: "1", COLORTERM: "truecolor" }, true), "none");
  assert.equal(chooseColorMode({ NO_COLOR: "" }, true), "none");
  assert.equal(chooseColorMode({ NO_COLOR: "0" }, true), "none");
});

test("colour mode: truecolor from COLORTERM, else 256", () => {
  assert.equal(chooseColorMode({ COLORTERM: "truecolor" }, true), "truecolor");
  assert.equal(chooseColorMode({ COLORTERM: "24bit" }, true), "truecolor");
  assert.equal(chooseColorMode({ COLORTERM: "TrueColor" }, true), "truecolor");
  assert.equal(chooseColorMode({}, true), "256");
  assert.equal(chooseColorMode({ COLORTERM: "yes", TERM: "xterm-256color" }, true), "256");
});

test("plain output has no escape codes and the score next to every token", () => {
  const out = renderTerminal(example(), { color: "none" });
  assert.ok(!out.includes("\x1b"), "no ANSI codes");
  for (const unit of [
    "[CLS](+0.010)",
    "the(-0.200)",
    "un(+0.300)",
    "##believ(+0.400)",
    "good(+1.500)",
    "[SEP](+0.020)",
  ]) {
    assert.ok(out.includes(unit), `missing ${unit}:\n${out}`);
  }
});

test("the prediction comes first; the explained target is named when it differs", () => {
  const same = renderTerminal(example(), { color: "none" });
  assert.match(same.split("\n")[0]!, /^prediction: positive \(p = 97\.0%\)$/);
  const other = renderTerminal(example({ target: 0, label: "negative" }), { color: "none" });
  assert.match(
    other.split("\n")[0]!,
    /prediction: positive \(p = 97\.0%\), explaining target: negative \(p = 3\.0%\)/,
  );
  assert.ok(other.includes("supports negative"));
});

test("conservation line and per-layer sums for relevance methods only", () => {
  const out = renderTerminal(example(), { color: "none" });
  const [lrp, rollout] = out.split("method rollout");
  assert.match(lrp!, /method lrp {2}\(12 ms\)/);
  assert.match(lrp!, /Σ R = 2\.2800 {2}vs {2}logit f = 2\.3000/);
  assert.match(lrp!, /Σ R per layer: emb 2\.2800 L1 2\.2850 L2 2\.2900 L3 2\.3000/);
  assert.ok(!rollout!.includes("Σ R ="));
  assert.match(rollout!, /not a relevance method/);
});

test("truecolor output paints backgrounds with contrasting text", () => {
  const out = renderTerminal(example(), { color: "truecolor" });
  assert.ok(out.includes("\x1b[48;2;"), "24-bit background codes");
  // The most relevant token gets the saturated red end, in white.
  assert.ok(out.includes("\x1b[48;2;103;0;31m\x1b[38;2;255;255;255mgood\x1b[0m"), out);
  // A neutral-ish token has dark text.
  // eslint-disable-next-line no-control-regex
  assert.match(out, /\x1b\[48;2;\d+;\d+;\d+m\x1b\[38;2;0;0;0mthe\x1b\[0m/);
  assert.match(strip(out), /against ◀ +▶ supports positive/);
});

test("256-colour output uses the palette codes", () => {
  const out = renderTerminal(example(), { color: "256" });
  assert.ok(out.includes("\x1b[48;5;52m\x1b[38;5;231mgood"), out);
  assert.ok(!out.includes("48;2;"));
});

test("word joining sums the scores of the pieces", () => {
  const out = renderTerminal(example(), { color: "none", joinWords: true });
  assert.ok(out.includes("unbelievably(+0.900)"), out);
  assert.ok(!out.includes("##"));
  const hidden = renderTerminal(example(), { color: "none", joinWords: true, hideSpecial: true });
  assert.ok(!hidden.includes("[CLS]") && !hidden.includes("[SEP]"));
});

test("text is wrapped to the width", () => {
  const tokens = ["[CLS]", ...Array.from({ length: 60 }, (_, i) => `word${i}`), "[SEP]"];
  const attributions = tokens.map((_, i) => Math.sin(i));
  const expl = example({
    tokens,
    ids: tokens.map((_, i) => i),
    explanations: { gi: { attributions, sum: 0, logit: 0, conservative: true } },
  });
  for (const color of ["none", "truecolor", "256"] as const) {
    const out = renderTerminal(expl, { color, width: 50 });
    const heat = strip(out)
      .split("\n")
      .filter((l) => l.includes("word"));
    assert.ok(heat.length > 3, `${color}: wrapped into several lines`);
    for (const line of heat) assert.ok(displayWidth(line) <= 50, `${color}: "${line}" longer than 50`);
  }
});

test("escape sequences and control characters from the input cannot reach the terminal", () => {
  const expl = example({
    tokens: ["[CLS]", "\x1b[2J", "ok\nno", "[SEP]"],
    ids: [1, 2, 3, 4],
    label: "pos\x1b]0;pwned\x07",
    predictedLabel: "pos\x1b]0;pwned\x07",
    explanations: { gi: { attributions: [0, 1, -1, 0], sum: 0, logit: 0, conservative: true } },
  });
  const plain = renderTerminal(expl, { color: "none" });
  assert.ok(!plain.includes("\x1b") && !plain.includes("\x07"), JSON.stringify(plain));
  const colored = renderTerminal(expl, { color: "truecolor" });
  assert.ok(!colored.includes("\x1b[2J") && !colored.includes("\x1b]0;"));
  assert.equal(sanitizeForTerminal("a\nb\tc\x1bd"), "a↵b⇥c\ufffdd");
});

test("display width counts wide characters twice and combining marks not at all", () => {
  assert.equal(displayWidth("abc"), 3);
  assert.equal(displayWidth("日本"), 4);
  assert.equal(displayWidth("e\u0301"), 1);
});
