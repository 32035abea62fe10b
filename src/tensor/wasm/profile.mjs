/* global console, performance */
// A CPU profile of the portable path, for docs/PERFORMANCE.md (a measurement, not a test):
//
//   npm run build
//   node src/tensor/wasm/profile.mjs [--seq 128] [--reps 5] [--out lrp.cpuprofile]
//   node src/tensor/wasm/profile.mjs --summary lrp.cpuprofile [--top 15] [--wat kernels.wat]
//
// The first runs BERT-base (random weights) `lrp` at --seq tokens --reps times on the wasm backend
// (--threads, default all cores; with --threads 1 the CPU time it prints is a measure that a busy
// machine disturbs little), weights resident where the build supports it) after a warm-up, and writes the main
// thread's CPU profile of the timed runs only (V8's sampling profiler through node:inspector, the
// one `node --cpu-prof` uses, without the model's set-up) to --out. The second prints the functions
// with the most self time in a profile; the kernels carry no names, so `wasm-function[i]` is named from
// the text form of the build (`node src/tensor/wasm/build.mjs /tmp/wat --wat` writes
// /tmp/wat/src/tensor/wasm/kernels.wat): function i is the i-th `(func` there.
import { readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import process from "node:process";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    seq: { type: "string", default: "128" },
    threads: { type: "string" },
    reps: { type: "string", default: "5" },
    summary: { type: "string" },
    top: { type: "string", default: "15" },
    out: { type: "string", default: "lrp.cpuprofile" },
    wat: { type: "string" },
  },
});

if (values.summary) {
  const prof = JSON.parse(readFileSync(values.summary, "utf8"));
  const names = values.wat
    ? [...readFileSync(values.wat, "utf8").matchAll(/^ \(func \$(\S+)/gm)].map((m) =>
        m[1].replace(/^.*\//, ""),
      )
    : [];
  const dt = new Map();
  // timeDeltas[i] is the time before sample i
  for (let i = 0; i < prof.samples.length; i++)
    dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
  const self = new Map();
  let total = 0;
  for (const node of prof.nodes) {
    const t = dt.get(node.id) ?? 0;
    if (!t) continue;
    const f = node.callFrame;
    const file = f.url ? f.url.replace(/^.*\/(dist|node:)/, "$1") : "";
    const wasm = /^wasm-function\[(\d+)\]$/.exec(f.functionName);
    const key =
      wasm && names[Number(wasm[1])]
        ? `${names[Number(wasm[1])]} (wasm)`
        : `${f.functionName || "(anonymous)"} ${file}${f.url ? `:${f.lineNumber + 1}` : ""}`;
    self.set(key, (self.get(key) ?? 0) + t);
    total += t;
  }
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top));
  console.log(`total ${(total / 1000).toFixed(0)} ms sampled`);
  for (const [k, t] of rows)
    console.log(
      `${((100 * t) / total).toFixed(1).padStart(5)} %  ${(t / 1000).toFixed(0).padStart(6)} ms  ${k}`,
    );
} else {
  const { initBackend, backendInfo, disposeBackend } = await import("../../../dist/src/tensor/backends.js");
  const { bertBase } = await import("../../../dist/src/cli/bench.js");
  const { makeBatch } = await import("../../../dist/src/models/index.js");
  const { embeddingGradient, LRP_RULES } = await import("../../../dist/src/explain/index.js");
  await initBackend({ backend: "wasm", threads: values.threads ? Number(values.threads) : undefined });
  const info = backendInfo();
  const model = bertBase();
  model.makeResident?.(); // weights in the kernels' memory where the build has it
  const seq = Number(values.seq);
  const ids = Array.from({ length: seq }, (_, i) =>
    i === 0 ? 101 : i === seq - 1 ? 102 : 1000 + ((i * 7919) % 20000),
  );
  const input = {
    model,
    batch: makeBatch([{ ids }], 0),
    target: 1,
    options: { gamma: 0, steps: 50, seed: 0 },
  };
  embeddingGradient(input, LRP_RULES, false);
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 200 });
  await session.post("Profiler.start");
  const ts = [];
  const cpu = [];
  for (let i = 0; i < Number(values.reps); i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    embeddingGradient(input, LRP_RULES, false);
    const c = process.cpuUsage(c0);
    ts.push(performance.now() - t0);
    cpu.push((c.user + c.system) / 1000);
  }
  cpu.sort((a, b) => a - b);
  const { profile } = await session.post("Profiler.stop");
  session.disconnect();
  writeFileSync(values.out, JSON.stringify(profile));
  ts.sort((a, b) => a - b);
  console.log(
    `${info.name}, ${info.threads} threads: BERT-base lrp seq ${seq}: median ${ts[ts.length >> 1].toFixed(0)} ms of ${ts.length} (CPU time of all threads ${cpu[cpu.length >> 1].toFixed(0)} ms)`,
  );
  disposeBackend();
}
