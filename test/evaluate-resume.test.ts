/**
 * Resumable and sharded evaluations through the real CLI: a run killed with SIGKILL and resumed,
 * a run stopped by SIGINT, and three shards merged all report exactly what one uninterrupted run
 * reports (timings aside); bad journals and bad shards are one-line errors naming the file or shard.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { saveModel } from "../src/models/folder-node.js";
import { tinyModel } from "./helpers/tiny-models.js";
import { tempDir } from "./helpers/temp-dir.js";

const dir = tempDir("xait-resume-");
const MODEL = fileURLToPath(new URL("../../models/sst2-xai-transformer", import.meta.url));
const data = join(dir, "data.tsv");
const words = [
  "a",
  "good",
  "bad",
  "movie",
  "not",
  "very",
  "funny",
  "dull",
  "film",
  "plot",
  "great",
  "boring",
];
const rows = Array.from({ length: 20 }, (_, i) => {
  const n = 3 + (i % 5);
  const text = Array.from({ length: n }, (_, k) => words[(i * 7 + k * 5) % words.length]).join(" ");
  return `${text}\t${i % 2}`;
});
writeFileSync(data, ["sentence\tlabel", ...rows].join("\n") + "\n");
const other = join(dir, "other-model");
saveModel(tinyModel("xai-transformer", 3), other);

const MAIN = new URL("../src/cli/main.js", import.meta.url).href;
const RUNNER = `import { main } from ${JSON.stringify(MAIN)}; process.exitCode = await main(process.argv.slice(1));`;
const ENV = { ...process.env, XAIT_BACKEND: "js", XAIT_QUIET: "1" };

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function xait(...args: string[]): Promise<Run> {
  return xaitWith({}, ...args);
}

/** The same with environment variables added. */
function xaitWith(env: Record<string, string>, ...args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ["--input-type=module", "-e", RUNNER, ...args],
      { env: { ...ENV, ...env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
        done({ code, signal: (error?.signal as NodeJS.Signals) ?? null, stdout, stderr });
      },
    );
  });
}

/** Starts a run and sends `signal` once its journal holds `lines` sample lines. */
function interrupted(out: string, args: string[], signal: NodeJS.Signals, lines: number): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", RUNNER, ...args, "--out", out], {
      env: ENV,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const journal = join(out, "perturbation.journal.jsonl");
    const poll = setInterval(() => {
      if (existsSync(journal) && readFileSync(journal, "utf8").split("\n").length - 2 >= lines) {
        clearInterval(poll);
        child.kill(signal);
      }
    }, 20);
    child.on("exit", (code, sig) => {
      clearInterval(poll);
      done({ code, signal: sig, stdout, stderr });
    });
  });
}

const COMMAND = [
  "evaluate",
  "perturbation",
  "--model",
  MODEL,
  "--data",
  data,
  "--methods",
  "lrp,gi,random",
  "--block",
  "4",
];

/** The report files of a perturbation run, the Markdown without its run section (date, times). */
function report(out: string): Record<string, string> {
  const md = readFileSync(join(out, "results.md"), "utf8");
  assert.match(md, /\n## Run\n/);
  return {
    "results.json": readFileSync(join(out, "results.json"), "utf8"),
    "results.md": md.slice(0, md.indexOf("\n## Run\n")),
    "perturbation.svg": readFileSync(join(out, "perturbation.svg"), "utf8"),
  };
}

/** Stdout without its run-time line. */
function withoutRunTime(stdout: string): string {
  assert.match(stdout, /^run time: /m);
  return stdout.replace(/^run time: .*\n/m, "");
}

const single = join(dir, "single");
const singleRun = xait(...COMMAND, "--out", single);
const shards = [1, 2, 3].map((k) => join(dir, `shard-${k}`));
const shardRuns = Promise.all(shards.map((s, k) => xait(...COMMAND, "--shard", `${k + 1}/3`, "--out", s)));

test("a run killed with SIGKILL midway and resumed reports exactly what an uninterrupted run reports", async () => {
  const out = join(dir, "killed");
  const killed = await interrupted(out, COMMAND, "SIGKILL", 5);
  assert.equal(killed.signal, "SIGKILL");
  const journal = join(out, "perturbation.journal.jsonl");
  const held = readFileSync(journal, "utf8").trimEnd().split("\n").length - 1;
  assert.ok(held >= 5 && held < 20, `${held} samples journaled before the kill`);
  assert.ok(!existsSync(join(out, "results.json")));
  // a write cut short by the kill: half a line without its newline
  appendFileSync(journal, '{"i":19,"wall_ms":1,"result":{"curves":{"lrp":{"gen');
  const resumed = await xait(...COMMAND, "--out", out, "--resume");
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /perturbation\.journal\.jsonl: the last line was cut short .*; dropped/);
  assert.match(resumed.stderr, new RegExp(`resuming .*: ${held} sample\\(s\\) already done`));
  const whole = await singleRun;
  assert.equal(whole.code, 0, whole.stderr);
  assert.deepEqual(report(out), report(single));
  assert.equal(withoutRunTime(resumed.stdout), withoutRunTime(whole.stdout));
  // every sample once in the journal
  const ids = readFileSync(journal, "utf8")
    .trimEnd()
    .split("\n")
    .slice(1)
    .map((l) => JSON.parse(l).i);
  assert.deepEqual(
    ids.sort((a, b) => a - b),
    Array.from({ length: 20 }, (_, i) => i),
  );
});

test("SIGINT stops after the current sample with exit 130 and the command that resumes", async () => {
  const out = join(dir, "interrupted");
  const r = await interrupted(out, COMMAND, "SIGINT", 2);
  assert.equal(r.code, 130, r.stderr);
  assert.match(
    r.stderr,
    /stopped by SIGINT: \d+ of 20 samples done and kept in .*; resume with: xait evaluate perturbation .* --resume\n/,
  );
  const resumed = await xait(...COMMAND, "--out", out, "--resume");
  assert.equal(resumed.code, 0, resumed.stderr);
  await singleRun;
  assert.deepEqual(report(out), report(single));
});

test("three shards merged report exactly what one run reports; the shards are disjoint and cover all samples", async () => {
  const runs = await shardRuns;
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  const held = shards.map((s) =>
    readFileSync(join(s, "perturbation.journal.jsonl"), "utf8")
      .trimEnd()
      .split("\n")
      .slice(1)
      .map((l) => JSON.parse(l).i as number),
  );
  // blocks of 4 dealt round-robin: shard 1 holds blocks 0 and 3, shard 3 block 2
  assert.deepEqual(held[0], [0, 1, 2, 3, 12, 13, 14, 15]);
  assert.deepEqual(held[2], [8, 9, 10, 11]);
  assert.deepEqual(
    held.flat().sort((a, b) => a - b),
    Array.from({ length: 20 }, (_, i) => i),
  );
  const merged = join(dir, "merged");
  // the merge itself runs on another backend: the report names the one the shards computed on
  const m = await xaitWith({ XAIT_BACKEND: "wasm" }, "evaluate", "merge", merged, ...shards);
  assert.equal(m.code, 0, m.stderr);
  const whole = await singleRun;
  assert.deepEqual(report(merged), report(single));
  assert.equal(withoutRunTime(m.stdout), withoutRunTime(whole.stdout));
  const run = readFileSync(join(merged, "results.md"), "utf8").split("\n## Run\n")[1]!;
  assert.match(run, /^- backend: js, 1 thread$/m);
  for (const k of [1, 2, 3])
    assert.match(run, new RegExp(`samples computed by: \`xait evaluate perturbation .*--shard ${k}/3 `));
  const ranOn = JSON.parse(readFileSync(join(merged, "perturbation-run.json"), "utf8")).ran_on as {
    backend: string;
  }[];
  assert.deepEqual(
    ranOn.map((r) => r.backend),
    ["js, 1 thread", "js, 1 thread", "js, 1 thread"],
  );
});

test("merge refuses a missing shard, overlapping shards and a shard of another model, naming them", async () => {
  await shardRuns;
  const missing = await xait("evaluate", "merge", join(dir, "m1"), shards[0]!, shards[2]!);
  assert.equal(missing.code, 1);
  assert.match(
    missing.stderr,
    /^error: shard 2\/3 missing \(given: .*shard-1 \(shard 1\/3\), .*shard-3 \(shard 3\/3\)\)\n$/,
  );
  const overlap = await xait("evaluate", "merge", join(dir, "m2"), shards[0]!, shards[1]!, shards[0]!);
  assert.match(
    overlap.stderr,
    /^error: .*shard-1 \(shard 1\/3\) and .*shard-1 \(shard 1\/3\) overlap: both are shard 1\/3\n$/,
  );
  const foreign = join(dir, "foreign-2");
  const f = await xait(...COMMAND.map((a) => (a === MODEL ? other : a)), "--shard", "2/3", "--out", foreign);
  assert.equal(f.code, 0, f.stderr);
  const mixed = await xait("evaluate", "merge", join(dir, "m3"), shards[0]!, foreign, shards[2]!);
  assert.equal(mixed.code, 1);
  assert.match(
    mixed.stderr,
    /^error: .*foreign-2.* and .*shard-1.* are shards of different evaluations \(differ in model content\)\n$/,
  );
  for (const m of ["m1", "m2", "m3"]) assert.ok(!existsSync(join(dir, m, "results.json")));
});

test("a journal is never replaced without --force; --resume refuses another evaluation; corrupt lines are named", async () => {
  await singleRun;
  const again = await xait(...COMMAND, "--out", single);
  assert.equal(again.code, 2);
  assert.match(
    again.stderr,
    /^error: .*single\/perturbation\.journal\.jsonl exists: add --resume to continue it or --force to start over\n$/,
  );
  const otherMethods = await xait(
    ...COMMAND.map((a) => (a === "lrp,gi,random" ? "lrp" : a)),
    "--out",
    single,
    "--resume",
  );
  assert.equal(otherMethods.code, 1);
  assert.match(
    otherMethods.stderr,
    /^error: .*perturbation\.journal\.jsonl is a journal of another evaluation \(differs in methods\); /,
  );
  // a corrupt line in the middle (not the last) is an error naming file and line
  const bad = join(dir, "corrupt");
  const lines = readFileSync(join(single, "perturbation.journal.jsonl"), "utf8").split("\n");
  lines[3] = lines[3]!.slice(0, 20);
  mkdirSync(bad);
  writeFileSync(join(bad, "perturbation.journal.jsonl"), lines.join("\n"));
  const corrupt = await xait(...COMMAND, "--out", bad, "--resume");
  assert.equal(corrupt.code, 1);
  assert.match(
    corrupt.stderr,
    /^error: .*corrupt\/perturbation\.journal\.jsonl: line 4 is corrupt \(not JSON\); the journal cannot be read\n$/,
  );
});

test("--shard must be K/N with 1 ≤ K ≤ N, and needs --out", async () => {
  for (const bad of ["0/3", "4/3", "a/b", "1/0", "2"]) {
    const r = await xait(...COMMAND, "--shard", bad, "--out", join(dir, "never"));
    assert.equal(r.code, 2, bad);
    assert.equal(r.stderr, `error: --shard must be K/N with 1 ≤ K ≤ N (e.g. 1/3), got '${bad}'\n`);
  }
  const noOut = await xait(...COMMAND, "--shard", "1/3");
  assert.equal(noOut.code, 2);
  assert.equal(noOut.stderr, "error: --shard needs --out DIR\n");
  assert.ok(!existsSync(join(dir, "never")));
});
