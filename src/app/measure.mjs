/* global console, document, performance */
// Times of the explainer page against Node, for docs/PERFORMANCE.md (a benchmark, not a test):
// the cold time from opening the page to the first explanation (fresh browser profile: fetch and
// compile the kernels, start the threads, load the bundled model, explain with lrp), and one `lrp`
// explanation of a 30-token sentence (median of --reps after a warm-up), in the page (cross-origin
// isolated: threads; and on one thread) and in Node (all cores; and XAIT_THREADS=1).
//
//   npm run build && node src/app/measure.mjs [--reps 15] [--screenshot FILE]
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const xait = path.join(root, "bin/xait.js");
const { values } = parseArgs({
  options: { reps: { type: "string", default: "15" }, screenshot: { type: "string" } },
});
const reps = Number(values.reps);
/** 30 tokens with the bundled sst2-bert's tokenizer, [CLS] and [SEP] included. */
const TEXT =
  "even with a strong cast and a clever premise , the film never quite finds its rhythm , and most of the jokes simply land flat on screen";

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function serve() {
  const child = spawn(process.execPath, [xait, "serve", "--port", "0"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((ok) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = /open (http:\S+)/.exec(out);
      if (m) ok({ url: m[1], child });
    });
  });
}

async function explainOnce(page, methods) {
  await page.$$eval(
    "#methods input",
    (boxes, wanted) => boxes.forEach((b) => (b.checked = wanted.includes(b.value))),
    methods,
  );
  await page.evaluate(() => delete document.getElementById("result").dataset.status);
  await page.click("#explain");
  await page.waitForSelector("#result[data-status=done]", { timeout: 300_000 });
}

async function inPage(browser, url, label) {
  const context = await browser.newContext({ viewport: { width: 900, height: 900 } });
  const page = await context.newPage();
  const t0 = performance.now();
  await page.goto(url);
  await page.fill("#text", TEXT);
  await page.waitForFunction(() => !document.getElementById("explain").disabled, null, { timeout: 300_000 });
  await explainOnce(page, ["lrp"]);
  const cold = performance.now() - t0;
  const engine = await page.locator("#engine").getAttribute("data-ms");
  const threads = await page.locator("#engine").getAttribute("data-threads");
  const tokens = await page.locator("#result section[data-method=lrp] .tok").count();
  const times = [];
  for (let i = 0; i < reps; i++) {
    await explainOnce(page, ["lrp"]);
    times.push(Number(await page.locator("#result section[data-method=lrp]").getAttribute("data-ms")));
  }
  console.log(
    `page (${label}, ${threads} thread(s)): cold to first explanation ${cold.toFixed(0)} ms ` +
      `(kernels and threads ${Number(engine).toFixed(0)} ms); lrp, ${tokens} tokens: median ${median(times).toFixed(1)} ms`,
  );
  if (values.screenshot && label === "xait serve") {
    await page.fill("#text", "a gripping, funny and moving film, though the plot is thin");
    await explainOnce(page, ["lrp", "attnlrp", "rollout"]);
    await page.screenshot({ path: values.screenshot, fullPage: true });
    console.log(`screenshot: ${values.screenshot}`);
  }
  await context.close();
}

function inNode(threads) {
  const env = { ...process.env, ...(threads ? { XAIT_THREADS: String(threads) } : {}) };
  const t0 = performance.now();
  const cold = spawnSync(process.execPath, [xait, "explain", "--method", "lrp", "--json", TEXT], { env });
  const coldMs = performance.now() - t0;
  if (cold.status !== 0) throw new Error(cold.stderr.toString());
  const script = `
    import { explain, initBackend, backendInfo } from ${JSON.stringify(pathToFileURL(path.join(root, "dist/src/index.js")).href)};
    import { loadModel } from ${JSON.stringify(pathToFileURL(path.join(root, "dist/src/node.js")).href)};
    await initBackend();
    const model = loadModel("models/sst2-bert");
    const times = [];
    let tokens = 0;
    for (let i = 0; i <= ${reps}; i++) {
      const r = explain(model, ${JSON.stringify(TEXT)}, { methods: ["lrp"] });
      tokens = r.tokens.length;
      if (i > 0) times.push(r.explanations.lrp.ms);
    }
    times.sort((a, b) => a - b);
    console.log(JSON.stringify({ threads: backendInfo().threads, tokens, ms: times[times.length >> 1] }));
    process.exit(0);`;
  // a file, not --eval: worker threads inherit the flags, and --input-type breaks them
  const file = path.join(mkdtempSync(path.join(tmpdir(), "xait-measure-")), "node-lrp.mjs");
  writeFileSync(file, script);
  const warm = spawnSync(process.execPath, [file], { cwd: root, env });
  rmSync(path.dirname(file), { recursive: true, force: true });
  if (warm.status !== 0) throw new Error(warm.stderr.toString());
  const r = JSON.parse(warm.stdout.toString());
  console.log(
    `node (${r.threads} thread(s)): cold \`xait explain --method lrp\` ${coldMs.toFixed(0)} ms; ` +
      `lrp, ${r.tokens} tokens: median ${r.ms.toFixed(1)} ms`,
  );
}

console.log(
  `${cpus()[0]?.model ?? "cpu"} × ${cpus().length}, Node ${process.version}, ${new Date().toISOString()}`,
);
const { url, child } = await serve();
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
});
console.log(`chromium ${browser.version()}`);
try {
  await inPage(browser, url, "xait serve");
  await inPage(browser, `${url}?threads=1`, "xait serve, ?threads=1");
  inNode();
  inNode(1);
} finally {
  await browser.close();
  child.kill("SIGINT");
}
