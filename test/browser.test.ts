/**
 * The HTML report in a real browser (Debian's /usr/bin/chromium driven by playwright-core; no browser
 * is ever downloaded): one element per token, colours ordered like the scores, hostile text shown as
 * text, no network request, and a screenshot for a human to look at.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Explanation } from "../src/explain/result.js";
import { renderHtml } from "../src/report/html.js";
import { tempDir } from "./helpers/temp-dir.js";
import { launchChromium, noChromium } from "./helpers/chromium.js";

const HOSTILE = "<img src=x onerror=alert(1)>";
const skip = noChromium;

function explanation(): Explanation {
  const tokens = ["[CLS]", "the", "movie", "was", "not", "un", "##believ", "##ably", "good", "!", "[SEP]"];
  return {
    model: "models/tiny-sst2",
    text: "the movie was not unbelievably good!",
    tokens,
    ids: tokens.map((_, i) => 100 + i),
    logits: [1.1, -0.4],
    probabilities: [0.8176, 0.1824],
    target: 0,
    label: "negative",
    predicted: 0,
    predictedLabel: "negative",
    labels: ["negative", "positive"],
    explanations: {
      lrp: {
        attributions: [0.02, -0.05, 0.1, 0.01, 1.3, -0.2, 0.15, -0.1, -0.6, 0.05, -0.01],
        sum: 0.67,
        logit: 1.1,
        conservative: true,
        layers: [0.67, 0.8, 0.95, 1.1],
        ms: 4,
      },
      rollout: {
        attributions: [0.9, 0.3, 0.5, 0.2, 0.7, 0.1, 0.1, 0.1, 0.6, 0.2, 0.8],
        sum: 4.5,
        logit: 1.1,
        conservative: false,
      },
    },
  };
}

function hostile(): Explanation {
  const tokens = ["[CLS]", HOSTILE, "<script>window.pwned=1</script>", "[SEP]"];
  return {
    ...explanation(),
    model: HOSTILE,
    text: HOSTILE,
    tokens,
    ids: [1, 2, 3, 4],
    label: HOSTILE,
    predictedLabel: HOSTILE,
    labels: [HOSTILE, "positive"],
    explanations: { gi: { attributions: [0, 1, -1, 0], sum: 0, logit: 1.1, conservative: true } },
  };
}

/** Distance from white, signed by hue: > 0 for reds, < 0 for blues. */
function signedIntensity(css: string): number {
  const m = /rgba?\((\d+), (\d+), (\d+)/.exec(css);
  assert.ok(m, `not an rgb colour: ${css}`);
  const [r, g, b] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const strength = 1 - Math.min(r, g, b) / 255;
  return r >= b ? strength : -strength;
}

test("HTML report in a real browser", { skip, timeout: 120_000 }, async (t) => {
  const dir = process.env.XAIT_SCREENSHOT_DIR ?? tempDir("xait-browser-");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "report.html");
  const good = explanation();
  const bad = hostile();
  writeFileSync(
    file,
    renderHtml([good, bad], { command: `xait explain --text '${HOSTILE}'`, model: HOSTILE }),
  );
  const url = pathToFileURL(file).href;

  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    const requests: string[] = [];
    const dialogs: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(url, { waitUntil: "load" });

    await t.test("one .tok element per token, in token order", async () => {
      const perSection = await page.$$eval("section.method", (sections) =>
        sections.map((s) =>
          Array.from(s.querySelectorAll(".tok")).map((e) => Number(e.getAttribute("data-score"))),
        ),
      );
      assert.deepEqual(perSection, [
        good.explanations.lrp!.attributions,
        good.explanations.rollout!.attributions,
        bad.explanations.gi!.attributions,
      ]);
    });

    await t.test("computed background colours are ordered like the scores", async () => {
      const firstMethod = page.locator("section.method").first();
      const cells = await firstMethod.locator(".tok").evaluateAll((els) =>
        els.map((e) => ({
          score: Number(e.getAttribute("data-score")),
          bg: getComputedStyle(e).backgroundColor,
        })),
      );
      assert.equal(cells.length, good.tokens.length);
      const sorted = [...cells].sort((a, b) => a.score - b.score);
      for (let i = 1; i < sorted.length; i++) {
        const [lo, hi] = [sorted[i - 1]!, sorted[i]!];
        assert.ok(
          signedIntensity(hi.bg) >= signedIntensity(lo.bg),
          `score ${hi.score} (${hi.bg}) is less red than ${lo.score} (${lo.bg})`,
        );
      }
      const intensities = cells.map((c) => signedIntensity(c.bg));
      const top = cells.findIndex((c) => c.score === Math.max(...cells.map((x) => x.score)));
      const bottom = cells.findIndex((c) => c.score === Math.min(...cells.map((x) => x.score)));
      assert.equal(intensities[top], Math.max(...intensities), "most positive is the reddest");
      assert.equal(intensities[bottom], Math.min(...intensities), "most negative is the bluest");
      assert.ok(intensities[top]! > 0.9 && intensities[bottom]! < -0.3);
    });

    await t.test("focus shows the score in a tooltip", async () => {
      const tok = page.locator("section.method .tok", { hasText: "not" }).first();
      await tok.focus();
      const content = await tok.evaluate((e) => getComputedStyle(e, "::after").content);
      assert.match(content, /not: \+1\.300/);
    });

    await t.test("hostile text is shown literally and runs nothing", async () => {
      assert.equal(await page.locator("img").count(), 0, "no <img> element");
      assert.equal(await page.locator("body script").count(), 0, "no <script> element");
      assert.equal(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned), undefined);
      assert.deepEqual(dialogs, [], "no alert");
      const text = await page.locator("body").innerText();
      assert.ok(text.includes(HOSTILE), "the hostile text reads as text");
      const tokTexts = await page.$$eval("section.example:nth-of-type(2) .tok", (els) =>
        els.map((e) => e.textContent),
      );
      assert.deepEqual(tokTexts, bad.tokens);
    });

    await t.test("no network request: only the file itself is loaded", async () => {
      assert.deepEqual(requests, [url]);
    });

    const screenshot = join(dir, "report.png");
    await page.screenshot({ path: screenshot, fullPage: true });
    assert.ok(existsSync(screenshot));
    t.diagnostic(`screenshot: ${screenshot}`);
    console.log(`screenshot: ${screenshot}`);
  } finally {
    await browser.close();
  }
});
