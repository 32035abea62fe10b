// A CPU profile of the portable path, for docs/PERFORMANCE.md (a measurement, not a test):
//
//   npm run build
//   node --cpu-prof --cpu-prof-dir=/tmp/prof src/tensor/wasm/profile.mjs [--seq 128] [--reps 5]
//   node src/tensor/wasm/profile.mjs --summary /tmp/prof/CPU.*.cpuprofile [--top 15]
//
// The first runs BERT-base (random weights) `lrp` at --seq tokens --reps times on the wasm backend
// (all cores) after a warm-up; --cpu-prof writes one profile per thread. The second prints the
// functions with the most self time in a profile (the main thread's is the largest file).
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    seq: { type: "string", default: "128" },
    reps: { type: "string", default: "5" },
    summary: { type: "string" },
    top: { type: "string", default: "15" },
  },
});

if (values.summary) {
  const prof = JSON.parse(readFileSync(values.summary, "utf8"));
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
    const key = `${f.functionName || "(anonymous)"} ${file}${f.url ? `:${f.lineNumber + 1}` : ""}`;
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
  await initBackend({ backend: "wasm" });
  const info = backendInfo();
  const model = bertBase();
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
  const ts = [];
  for (let i = 0; i < Number(values.reps); i++) {
    const t0 = performance.now();
    embeddingGradient(input, LRP_RULES, false);
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  console.log(
    `${info.name}, ${info.threads} threads: BERT-base lrp seq ${seq}: median ${ts[ts.length >> 1].toFixed(0)} ms of ${ts.length}`,
  );
  disposeBackend();
}
