/**
 * `xait serve`: the page and the model folders with the cross-origin isolation headers; nothing else.
 * Traversal attempts (`..`, percent-encoded, absolute paths, symlinks out of a folder) and directory
 * listings get 404 and never the secret beside the models folder; Ctrl-C stops the server with exit 0.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { BUNDLED, SECRET, XAIT, modelsFixture, startServe } from "./helpers/app-server.js";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request with the target sent exactly as written (no normalisation by a URL parser). */
function get(base: string, target: string, method = "GET"): Promise<Answer> {
  const { hostname, port } = new URL(base);
  return new Promise((ok, fail) => {
    const req = request({ hostname, port, path: target, method }, (res) => {
      let body = "";
      res.setEncoding("latin1");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => ok({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", fail);
    req.end();
  });
}

test("xait serve: bad flags are usage errors (exit 2, one line)", () => {
  for (const [args, message] of [
    [["--port", "abc"], "error: --port must be an integer, got 'abc'"],
    [["--port", "70000"], "error: --port must be at most 65535, got 70000"],
    [["--models", "/nonexistent-xait-models"], "error: --models /nonexistent-xait-models: not a folder"],
  ] as const) {
    const r = spawnSync(process.execPath, [XAIT, "serve", ...args], { encoding: "utf8" });
    assert.equal(r.status, 2, args.join(" "));
    assert.equal(r.stderr, message + "\n");
  }
});

test("xait serve", { timeout: 60_000 }, async (t) => {
  const { models } = modelsFixture();
  const served = await startServe(models);
  try {
    await t.test("the page and a model's files, with cross-origin isolation headers", async () => {
      const page = await get(served.url, "/");
      assert.equal(page.status, 200);
      assert.match(page.body, /<title>xait/);
      assert.equal(page.headers["cross-origin-opener-policy"], "same-origin");
      assert.equal(page.headers["cross-origin-embedder-policy"], "require-corp");
      assert.equal((await get(served.url, "/?threads=1&model=hostile")).body, page.body);
      for (const f of ["page.js", "engine.js", "browser-worker.js", "app.css", "kernels.wasm"]) {
        const r = await get(served.url, `/${f}`);
        assert.equal(r.status, 200, f);
        assert.equal(r.headers["cross-origin-embedder-policy"], "require-corp", f);
      }
      const config = await get(served.url, "/models/sst2-bert/config.json");
      assert.equal(config.status, 200);
      assert.equal(config.body, readFileSync(join(models, "sst2-bert/config.json"), "latin1"));
      const weights = await get(served.url, "/models/sst2-bert/model.safetensors");
      assert.equal(weights.body.length, readFileSync(join(BUNDLED, "model.safetensors")).length);
    });

    await t.test("the model list names the model folders only, not a symlink leading out", async () => {
      const r = await get(served.url, "/models/index.json");
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(r.body), { models: ["hostile", "sst2-bert"], default: "sst2-bert" });
    });

    const refused = [
      "/../package.json",
      "/../../outside/secret.txt",
      "/models/../../outside/secret.txt",
      "/%2e%2e/outside/secret.txt",
      "/%2E%2E/%2E%2E/package.json",
      "/models/%2e%2e/outside/secret.txt",
      "/models/sst2-bert/%2e%2e%2f%2e%2e%2foutside%2fsecret.txt",
      "/models/sst2-bert/..%2F..%2Foutside%2Fsecret.txt",
      "/models/sst2-bert/..%5c..%5coutside%5csecret.txt",
      "/%252e%252e/outside/secret.txt",
      "//etc/passwd",
      "/%2Fetc%2Fpasswd",
      "/models/sst2-bert//etc/passwd",
      "/models/%2Fetc/passwd",
      "/models/escape/secret.txt",
      "/models/escape/config.json",
      "/models/sst2-bert/secret.txt",
      "/models/",
      "/models",
      "/models/sst2-bert/",
      "/models/sst2-bert",
      "/src/app/page.ts",
      "/package.json",
      "/.git/config",
      "/models/.hidden/config.json",
      "/models/sst2-bert/config.json/..",
      "http://example.com/etc/passwd",
    ];
    await t.test("traversal, absolute paths, symlinks out and listings get 404", async () => {
      for (const target of refused) {
        const r = await get(served.url, target);
        assert.equal(r.status, 404, `${target} answered ${r.status}`);
        assert.ok(!r.body.includes(SECRET), `${target} leaked the secret`);
        assert.ok(!r.body.includes("sst2-bert"), `${target} listed a folder`);
      }
    });

    await t.test("only GET and HEAD", async () => {
      assert.equal((await get(served.url, "/", "POST")).status, 405);
      const head = await get(served.url, "/models/sst2-bert/config.json", "HEAD");
      assert.equal(head.status, 200);
      assert.equal(head.body, "");
    });
  } finally {
    const { code, stderr } = await served.stop();
    assert.equal(code, 0, `Ctrl-C: exit ${code}, stderr ${stderr}`);
    assert.match(stderr, /xait serve: stopped/);
  }
});
