/**
 * For the page's tests: a folder of model folders with traps around it, and `xait serve` started as a
 * child process on a free loopback port (its printed URL parsed), stopped with SIGINT like Ctrl-C.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "./temp-dir.js";

export const ROOT = resolve(fileURLToPath(import.meta.url), "../../../..");
export const XAIT = join(ROOT, "bin/xait.js");
export const BUNDLED = join(ROOT, "models/sst2-bert");
export const SECRET = "xait-test-secret-9f27";
export const HOSTILE = "<img src=x onerror=alert(1)>";

export interface ModelsFixture {
  /** The folder given to --models. */
  models: string;
  /** A folder beside it that must never be served. */
  outside: string;
}

function copyModel(from: string, to: string, config?: (c: Record<string, unknown>) => void): void {
  mkdirSync(to, { recursive: true });
  for (const f of ["model.safetensors", "tokenizer.json"]) copyFileSync(join(from, f), join(to, f));
  const c = JSON.parse(readFileSync(join(from, "config.json"), "utf8")) as Record<string, unknown>;
  config?.(c);
  writeFileSync(join(to, "config.json"), JSON.stringify(c, null, 2));
}

/**
 * models/sst2-bert (a copy of the bundled model), models/hostile (its labels are HTML), a symlinked
 * folder and a symlinked file that lead outside, and a secret file outside.
 */
export function modelsFixture(): ModelsFixture {
  const dir = tempDir("xait-app-");
  const models = join(dir, "models");
  const outside = join(dir, "outside");
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(outside, "secret.txt"), SECRET);
  writeFileSync(join(outside, "config.json"), JSON.stringify({ secret: SECRET }));
  copyModel(BUNDLED, join(models, "sst2-bert"));
  copyModel(BUNDLED, join(models, "hostile"), (c) => {
    c.id2label = { "0": HOSTILE, "1": "<script>window.pwned=1</script>" };
    c.label2id = { [HOSTILE]: 0, "<script>window.pwned=1</script>": 1 };
  });
  symlinkSync(outside, join(models, "escape"));
  symlinkSync(join(outside, "secret.txt"), join(models, "sst2-bert", "secret.txt"));
  return { models, outside };
}

export interface Served {
  url: string;
  child: ChildProcess;
  /** SIGINT (Ctrl-C); resolves with the exit code and what it printed on stderr. */
  stop(): Promise<{ code: number | null; stderr: string }>;
}

/** `xait serve --port 0 --models DIR`, once it has printed its URL. */
export function startServe(models: string): Promise<Served> {
  const child = spawn(process.execPath, [XAIT, "serve", "--port", "0", "--models", models], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((ok) => child.once("exit", (code) => ok(code)));
  const stop = async (): Promise<{ code: number | null; stderr: string }> => {
    child.kill("SIGINT");
    return { code: await exited, stderr };
  };
  return new Promise((ok, fail) => {
    child.stdout!.on("data", (d: Buffer) => {
      stdout += d.toString();
      const m = /open (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout);
      if (m) ok({ url: m[1]!, child, stop });
    });
    void exited.then((code) =>
      fail(new Error(`xait serve exited (${code}) before printing its URL: ${stderr}`)),
    );
  });
}
