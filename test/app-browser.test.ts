/**
 * The explainer page in a real browser (Debian's /usr/bin/chromium driven by playwright-core): served
 * by `xait serve` (cross-origin isolated: threads) and by a bare static server (one thread), it
 * explains with the bundled model and its attributions equal `xait explain --json` in Node; hostile
 * labels and text show as text; bad model folders and empty text give the command line's one-line
 * error and the page stays usable; no request leaves the page's origin; a screenshot for a person.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  createReadStream,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import { extname, join, normalize } from "node:path";
import type { Page } from "playwright-core";
import { BUNDLED, HOSTILE, ROOT, XAIT, modelsFixture, startServe } from "./helpers/app-server.js";
import { tempDir } from "./helpers/temp-dir.js";
import { launchChromium, noChromium } from "./helpers/chromium.js";
import { tinyDecoder } from "./helpers/tiny-decoders.js";
import { saveModel } from "../src/models/folder-node.js";

const skip = noChromium;
const METHODS = ["lrp", "gi", "attnlrp", "rollout"];
const TEXT = "the acting is superb , but the story drags and the ending feels unearned";
const TOLERANCE = 1e-5;

interface NodeResult {
  tokens: string[];
  probabilities: number[];
  predicted_label: string;
  explanations: Record<string, { attributions: number[]; sum: number; logit: number }>;
}

/** `xait explain --json` in Node (cwd: `cwd`), or its error line. */
function cli(args: string[], cwd = ROOT): { result?: NodeResult; error?: string } {
  const r = spawnSync(process.execPath, [XAIT, "explain", ...args], { cwd, encoding: "utf8" });
  if (r.status === 0) return { result: JSON.parse(r.stdout) as NodeResult };
  return { error: r.stderr.trim().split("\n").at(-1) };
}

/** A static host with no special headers: the page is not cross-origin isolated. */
async function bareHost(site: string): Promise<{ url: string; server: Server }> {
  const types: Record<string, string> = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".wasm": "application/wasm",
    ".json": "application/json",
  };
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? "/").split("?")[0]!)).replace(/^(\.\.[/\\])+/, "");
    const file = join(site, path.endsWith("/") ? path + "index.html" : path);
    if (!file.startsWith(site) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "Content-Type": types[extname(file)] ?? "application/octet-stream" });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const address = server.address();
  return { url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/`, server };
}

/** Wait until the engine is up and no request is pending. */
async function idle(page: Page): Promise<void> {
  await page.waitForSelector("#engine[data-threads]", { timeout: 60_000 });
  await page.waitForFunction(() => document.body.dataset.busy === "false", null, { timeout: 60_000 });
}

async function explainInPage(page: Page, text: string, methods: string[]): Promise<void> {
  await idle(page);
  await page.$$eval(
    "#methods input[type=checkbox]",
    (boxes, wanted) =>
      boxes.forEach(
        (b) => ((b as HTMLInputElement).checked = wanted.includes((b as HTMLInputElement).value)),
      ),
    methods,
  );
  await page.fill("#text", text);
  await page.evaluate(() => delete document.getElementById("result")!.dataset.status);
  await page.click("#explain");
  await page.waitForFunction(
    () =>
      document.getElementById("result")!.dataset.status === "done" ||
      !document.getElementById("error")!.hidden,
    null,
    { timeout: 120_000 },
  );
}

/** The page's scores per method, from the heatmap's data-score attributes. */
function pageScores(page: Page): Promise<Record<string, number[]>> {
  return page.$$eval("#result section.method", (sections) =>
    Object.fromEntries(
      sections.map((s) => [
        s.getAttribute("data-method")!,
        Array.from(s.querySelectorAll(".tok"), (e) => Number(e.getAttribute("data-score"))),
      ]),
    ),
  );
}

/** Largest |page − node| relative to the largest |node| of the row. */
function relativeError(got: number[], want: number[]): number {
  assert.equal(got.length, want.length);
  const scale = Math.max(...want.map(Math.abs));
  return Math.max(...got.map((g, i) => Math.abs(g - want[i]!) / scale));
}

async function assertSameAsNode(t: TestContext, page: Page, want: NodeResult, where: string): Promise<void> {
  assert.equal(await page.locator("#error").isHidden(), true, await page.locator("#error").innerText());
  const got = await pageScores(page);
  assert.deepEqual(Object.keys(got).sort(), [...METHODS].sort());
  for (const m of METHODS) {
    const err = relativeError(got[m]!, want.explanations[m]!.attributions);
    t.diagnostic(`${where}: ${m} largest relative difference from Node ${err.toExponential(2)}`);
    assert.ok(err <= TOLERANCE, `${where}: ${m} differs from Node by ${err} (relative)`);
  }
  const tokens = await page.$$eval("#result section.method:first-of-type .tok", (els) =>
    els.map((e) => e.textContent),
  );
  assert.equal(tokens.length, want.tokens.length);
  assert.equal(await page.locator("#result .predicted-label").innerText(), want.predicted_label);
}

test("the explainer page in a real browser", { skip, timeout: 300_000 }, async (t) => {
  const { models } = modelsFixture();
  saveModel(tinyDecoder("gpt2", 3), join(models, "tiny-gpt2"));
  const node = cli(["--json", "--method", METHODS.join(","), "--model", BUNDLED, TEXT]);
  assert.ok(node.result, `xait explain failed: ${node.error}`);
  const want = node.result;
  const served = await startServe(models);
  const browser = await launchChromium();
  const shots = process.env.XAIT_SCREENSHOT_DIR ?? tempDir("xait-app-shot-");
  mkdirSync(shots, { recursive: true });
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    const requests: string[] = [];
    const dialogs: string[] = [];
    const errors: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(served.url);

    await t.test("cross-origin isolated: more than one thread, and Node's attributions", async (t) => {
      await idle(page);
      const engine = page.locator("#engine");
      assert.equal(await engine.getAttribute("data-backend"), "wasm");
      assert.equal(await engine.getAttribute("data-isolated"), "true");
      const threads = Number(await engine.getAttribute("data-threads"));
      assert.ok(threads > 1, `${threads} thread(s)`);
      assert.match(
        await engine.innerText(),
        new RegExp(`${threads} threads; the page is cross-origin isolated`),
      );
      assert.equal(await page.locator("#model-status").getAttribute("data-model"), "models/sst2-bert");
      await explainInPage(page, TEXT, METHODS);
      await assertSameAsNode(t, page, want, `isolated, ${threads} threads`);
      const conservation = await page.locator("#result section[data-method=lrp] .layers").innerText();
      assert.match(conservation, /Σ R per layer \(embeddings, then after each block\): emb/);
    });

    await t.test("hover shows a token's score", async () => {
      const tok = page.locator("#result section[data-method=lrp] .tok").nth(1);
      await tok.hover();
      const content = await tok.evaluate((e) => getComputedStyle(e, "::after").content);
      const score = Number(await tok.getAttribute("data-score"));
      assert.match(content, new RegExp(`${want.tokens[1]}: [+-]${Math.abs(score).toFixed(3)}`));
    });

    await t.test("the JSON download is `xait explain --json`'s object", async () => {
      const save = async (name: string): Promise<string> => {
        const [download] = await Promise.all([
          page.waitForEvent("download"),
          page.click(`#result a[download='${name}']`),
        ]);
        return readFileSync((await download.path())!, "utf8");
      };
      const json = JSON.parse(await save("explanation.json")) as NodeResult & { model: string };
      assert.equal(json.model, "models/sst2-bert");
      assert.deepEqual(json.tokens, want.tokens);
      for (const m of METHODS)
        assert.ok(
          relativeError(json.explanations[m]!.attributions, want.explanations[m]!.attributions) <= TOLERANCE,
        );
      const html = await save("report.html");
      assert.match(html, /<title>xait explanation<\/title>/);
    });

    const screenshot = join(shots, "app.png");
    await page.screenshot({ path: screenshot, fullPage: true });
    t.diagnostic(`screenshot: ${screenshot}`);
    console.log(`screenshot: ${screenshot}`);

    await t.test("a text pair: Node's attributions", async () => {
      const pair = "but the ending drags on";
      const node = cli([
        "--json",
        "--method",
        "lrp",
        "--model",
        BUNDLED,
        "--pair",
        pair,
        "the acting is superb",
      ]);
      assert.ok(node.result, node.error);
      await page.click("details summary");
      await page.fill("#pair", pair);
      await explainInPage(page, "the acting is superb", ["lrp"]);
      await page.fill("#pair", "");
      const got = await pageScores(page);
      assert.equal(got.lrp!.length, node.result.tokens.length);
      assert.ok(relativeError(got.lrp!, node.result.explanations.lrp!.attributions) <= TOLERANCE);
      assert.equal((await page.locator("#result blockquote.input").allInnerTexts()).at(-1), pair);
    });

    await t.test("a hostile label and text are shown as text and run nothing", async () => {
      await page.selectOption("#model-select", "hostile");
      await explainInPage(page, HOSTILE, ["lrp"]);
      assert.equal(await page.locator("#result img").count(), 0, "no <img>");
      assert.equal(await page.locator("body script").count(), 0, "no inline <script>");
      assert.equal(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned), undefined);
      const shown = await page.locator("#result").innerText();
      assert.ok(shown.includes(HOSTILE), "the text reads as text");
      const labels = await page.$$eval("#result table.probs td.label", (els) =>
        els.map((e) => e.textContent),
      );
      assert.deepEqual(labels, [HOSTILE, "<script>window.pwned=1</script>"]);
      assert.match(await page.locator("#model-status").innerText(), /classes <img src=x onerror=alert\(1\)>/);
    });

    await t.test("a language model: generation step by step, each step as in Node", async (t) => {
      const node = spawnSync(
        process.execPath,
        [
          XAIT,
          "explain",
          "--model",
          join(models, "tiny-gpt2"),
          "--method",
          "lrp,gi",
          "--generate",
          "3",
          "--json",
          "Hi goo",
        ],
        { encoding: "utf8" },
      );
      assert.equal(node.status, 0, node.stderr);
      const want = JSON.parse(node.stdout) as { generated: string; steps: NodeResult[] };
      assert.equal(await page.locator("#generate-choice").isHidden(), true, "no generation for a classifier");
      await page.selectOption("#model-select", "tiny-gpt2");
      await page.waitForFunction(
        () => document.getElementById("model-status")!.textContent!.includes("gpt2"),
        null,
        {
          timeout: 60_000,
        },
      );
      await idle(page);
      assert.equal(
        await page.locator("#generate-choice").isHidden(),
        false,
        "the generation choice shows for a language model",
      );
      await page.fill("#generate", "3");
      await explainInPage(page, "Hi goo", ["lrp", "gi"]);
      assert.equal(await page.locator("#error").isHidden(), true, await page.locator("#error").innerText());
      assert.equal(await page.locator("#result .generated-text").innerText(), JSON.stringify(want.generated));
      const sections = await page.$$eval("#result section.method", (els) =>
        els.map((s) => ({
          method: s.getAttribute("data-method")!,
          scores: Array.from(s.querySelectorAll(".tok"), (e) => Number(e.getAttribute("data-score"))),
        })),
      );
      assert.equal(sections.length, 3 * 2);
      sections.forEach((s, k) => {
        const step = Math.floor(k / 2);
        const err = relativeError(s.scores, want.steps[step]!.explanations[s.method]!.attributions);
        t.diagnostic(
          `generation step ${step + 1}: ${s.method} largest relative difference from Node ${err.toExponential(2)}`,
        );
        assert.ok(err <= TOLERANCE, `step ${step + 1} ${s.method}: ${err}`);
      });
      await page.fill("#generate", "0");
    });

    await t.test("bad input: the command line's error, and the page stays usable", async (t) => {
      const dir = tempDir("xait-app-bad-");
      const make = (name: string, files: Record<string, string | Buffer>): string => {
        mkdirSync(join(dir, name));
        for (const [f, c] of Object.entries(files)) writeFileSync(join(dir, name, f), c);
        return name;
      };
      const config = (over: Record<string, unknown>): string =>
        JSON.stringify({
          ...(JSON.parse(readFileSync(join(BUNDLED, "config.json"), "utf8")) as object),
          ...over,
        });
      const tokenizer = readFileSync(join(BUNDLED, "tokenizer.json"), "utf8");
      const weights = readFileSync(join(BUNDLED, "model.safetensors"));
      const folders = [
        make("no-weights", { "config.json": config({}), "tokenizer.json": tokenizer }),
        make("corrupt", {
          "config.json": config({}),
          "tokenizer.json": tokenizer,
          "model.safetensors": Buffer.concat([weights.subarray(0, 8), Buffer.from("{not json")]),
        }),
        make("unsupported", {
          "config.json": config({ model_type: "mamba" }),
          "tokenizer.json": tokenizer,
          "model.safetensors": weights,
        }),
      ];
      for (const name of folders) {
        const expected = cli(["--model", name, "anything"], dir).error;
        assert.ok(expected?.startsWith("error: "), `the CLI accepted ${name}`);
        await idle(page);
        await page.setInputFiles("#folder-input", join(dir, name));
        await page.waitForFunction(() => !document.getElementById("error")!.hidden, null, {
          timeout: 60_000,
        });
        assert.equal(await page.locator("#error").innerText(), expected, name);
        assert.equal(await page.locator("#explain").isDisabled(), true, "no model: nothing to explain");
      }
      // a good folder from disk, then an empty text, then a real explanation
      copyModelTo(join(dir, "good"));
      await idle(page);
      await page.setInputFiles("#folder-input", join(dir, "good"));
      await idle(page);
      assert.match(await page.locator("#model-status").innerText(), /^good: bert/);
      await explainInPage(page, "   ", ["lrp"]);
      assert.equal(await page.locator("#error").innerText(), cli(["  "]).error);
      await explainInPage(page, TEXT, METHODS);
      await assertSameAsNode(t, page, want, "after the errors, a folder from disk");
    });

    await t.test("no request leaves the page's origin; no script error, no dialog", async () => {
      const origin = new URL(served.url).origin;
      const foreign = requests.filter(
        (u) => new URL(u.startsWith("blob:") ? u.slice(5) : u).origin !== origin,
      );
      assert.deepEqual(foreign, []);
      assert.ok(requests.some((u) => u.endsWith("/models/sst2-bert/model.safetensors")));
      assert.deepEqual(errors, []);
      assert.deepEqual(dialogs, []);
    });

    await t.test("any static host, without isolation: one thread, the same attributions", async (t) => {
      const site = join(tempDir("xait-app-site-"), "site");
      const app = join(ROOT, "dist/app");
      mkdirSync(join(site, "models"), { recursive: true });
      for (const f of [
        "index.html",
        "app.css",
        "page.js",
        "engine.js",
        "browser-worker.js",
        "kernels-unshared.wasm",
        "kernels-relaxed-unshared.wasm",
      ])
        copyFileSync(join(app, f), join(site, f));
      copyModelTo(join(site, "models/sst2-bert"));
      writeFileSync(join(site, "models/index.json"), JSON.stringify({ models: ["sst2-bert"] }));
      const host = await bareHost(site);
      const bare = await browser.newPage();
      try {
        await bare.goto(host.url);
        await idle(bare);
        assert.equal(await bare.locator("#engine").getAttribute("data-isolated"), "false");
        assert.equal(await bare.locator("#engine").getAttribute("data-threads"), "1");
        assert.match(
          await bare.locator("#engine").innerText(),
          /1 thread; the page is not cross-origin isolated/,
        );
        await explainInPage(bare, TEXT, METHODS);
        await assertSameAsNode(t, bare, want, "not isolated, 1 thread");
      } finally {
        await bare.close();
        host.server.close();
      }
    });
  } finally {
    await browser.close();
    const { code } = await served.stop();
    assert.equal(code, 0);
  }
});

/** A copy of the bundled model's folder. */
function copyModelTo(to: string): void {
  mkdirSync(to, { recursive: true });
  for (const f of ["config.json", "model.safetensors", "tokenizer.json"])
    copyFileSync(join(BUNDLED, f), join(to, f));
}
