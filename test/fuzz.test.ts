/**
 * Property-based fuzzing (fast-check) of everything a careless or hostile user hands xait: the
 * safetensors reader, tokenizer.json and config.json parsing, and the CLI's numeric flags. The
 * contract: a correct result, or an XaitError whose message is one line naming the file (the CLI: a
 * one-line `error:` and exit 1 or 2) — never another error type, an internal message, a silently
 * different model, a hang or unbounded memory. Parsers run in a worker with a capped heap (see
 * helpers/sandbox.ts), so an unbounded allocation is a failure of the property, not of the test run.
 *
 * `npm test` runs a few hundred cases; `npm run fuzz` many more: XAIT_FUZZ_RUNS sets the cases per
 * parser property (default here 150), XAIT_FUZZ_CLI_RUNS the spawned CLI cases (default 6), and
 * XAIT_FUZZ_SEED replays a run.
 */
import { after, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { DEFAULT_MODEL } from "../src/cli/io.js";
import { saveModel } from "../src/models/folder-node.js";
import { writeSafetensors } from "../src/models/safetensors.js";
import { tokenizerFromVocab } from "../src/tokenize/index.js";
import { Sandbox, type FuzzOutcome } from "./helpers/sandbox.js";
import { tempDir } from "./helpers/temp-dir.js";
import { TINY_VOCAB, tinyModel } from "./helpers/tiny-models.js";
import { tinyDecoderConfig } from "./helpers/tiny-decoders.js";

const RUNS = Number(process.env.XAIT_FUZZ_RUNS ?? 150);
const CLI_RUNS = Number(process.env.XAIT_FUZZ_CLI_RUNS ?? 6);
const SEED = process.env.XAIT_FUZZ_SEED === undefined ? undefined : Number(process.env.XAIT_FUZZ_SEED);

const sandbox = new Sandbox();
after(() => sandbox.close());

/** Messages that are JavaScript's or a library's internals, not words for the user. */
const INTERNAL =
  /Cannot read propert|is not a function|is not iterable|is not defined|Invalid array length|Maximum call stack|out of memory|\bundefined\b|\[object /;

interface Tally {
  values: number;
  refusals: number;
}

/** Why an outcome breaks the contract, or undefined when it keeps it. */
function breach(outcome: FuzzOutcome, fileName: string, tally: Tally): string | undefined {
  if (outcome.kind === "value") {
    tally.values++;
    return undefined;
  }
  if (outcome.kind === "hang") return "no answer (hang)";
  if (outcome.kind === "crash") return `crashed: ${outcome.message}`;
  if (!outcome.xait) return `${outcome.name} instead of XaitError: ${outcome.message}`;
  if (outcome.message.includes("\n")) return `message of several lines: ${JSON.stringify(outcome.message)}`;
  if (!outcome.message.startsWith(`${fileName}: `))
    return `message does not name ${fileName}: ${outcome.message}`;
  if (INTERNAL.test(outcome.message)) return `internal message: ${outcome.message}`;
  tally.refusals++;
  return undefined;
}

/** Runs a property and reports its figures (cases, results, refusals) as a test diagnostic. */
async function check<T>(
  t: TestContext,
  arb: fc.Arbitrary<T>,
  predicate: (input: T, tally: Tally) => Promise<void> | void,
  numRuns = RUNS,
): Promise<void> {
  const tally: Tally = { values: 0, refusals: 0 };
  const details = await fc.check(
    fc.asyncProperty(arb, async (input) => {
      await predicate(input, tally);
    }),
    { numRuns, seed: SEED, endOnFailure: false },
  );
  t.diagnostic(
    `${details.numRuns} cases (seed ${details.seed}); with shrinking: ${tally.values} results, ${tally.refusals} refusals`,
  );
  if (details.failed) {
    const cause =
      details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    assert.fail(`${cause}\n${fc.defaultReportMessage(details) ?? "property failed"}`);
  }
}

// ---------------------------------------------------------------------------------------------
// JSON mutations: set, delete or wrap the value at a random path, or add a key at the top

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

function pathsOf(v: Json, prefix: Path = []): Path[] {
  const out: Path[] = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...pathsOf(x, [...prefix, i])));
  else if (v !== null && typeof v === "object")
    for (const [k, x] of Object.entries(v)) out.push(...pathsOf(x, [...prefix, k]));
  return out;
}

interface Mutation {
  at: number;
  op: "set" | "delete" | "wrap" | "add";
  key: string;
  value: Json;
}

function mutate(root: Json, m: Mutation): Json {
  if (m.op === "add") {
    if (root !== null && typeof root === "object" && !Array.isArray(root))
      root[m.key] = structuredClone(m.value);
    return root;
  }
  const paths = pathsOf(root);
  const path = paths[m.at % paths.length]!;
  if (path.length === 0) return m.op === "set" ? structuredClone(m.value) : m.op === "wrap" ? [root] : root;
  let parent = root as Record<string | number, Json>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, Json>;
  const key = path[path.length - 1]!;
  if (m.op === "delete") {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  } else parent[key] = m.op === "set" ? structuredClone(m.value) : [parent[key]!];
  return root;
}

/** Values a careless or hostile file holds: any JSON, and the numbers and strings that broke things. */
const hostileValue: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
  fc.constantFrom<Json>(
    0,
    -1,
    0.5,
    1.5,
    1e9,
    1e12,
    1e308,
    -1e308,
    2 ** 31,
    2 ** 53,
    -0,
    "2",
    "",
    "x",
    null,
    true,
    [],
    {},
  ),
);

function mutations(keys: string[]): fc.Arbitrary<Mutation[]> {
  return fc.array(
    fc.record({
      at: fc.nat(),
      op: fc.constantFrom<Mutation["op"]>("set", "set", "delete", "wrap", "add", "add"),
      key: fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 8 })),
      value: hostileValue,
    }),
    { minLength: 1, maxLength: 4 },
  );
}

/** Texts built from a base JSON object: mutated objects, their text with a BOM or cut short, or any text. */
function jsonTexts(base: Json, keys: string[]): fc.Arbitrary<string> {
  const mutated = mutations(keys).map((ms) => JSON.stringify(ms.reduce(mutate, structuredClone(base))));
  return fc.oneof(
    { weight: 6, arbitrary: mutated },
    { weight: 1, arbitrary: mutated.map((s) => "\uFEFF" + s) },
    { weight: 1, arbitrary: fc.tuple(mutated, fc.nat()).map(([s, n]) => s.slice(0, n % (s.length + 1))) },
    { weight: 1, arbitrary: fc.nat({ max: 3000 }).map((n) => "[".repeat(n) + "]".repeat(n)) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
    { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
  );
}

// ---------------------------------------------------------------------------------------------
// safetensors

const tensorList = fc
  .uniqueArray(
    fc.record({
      name: fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s !== "__metadata__"),
      shape: fc.array(fc.nat({ max: 4 }), { maxLength: 3 }),
    }),
    { selector: (t) => t.name, maxLength: 5 },
  )
  .chain((specs) =>
    fc.tuple(
      ...specs.map((s) =>
        fc
          .array(fc.float({ noNaN: true, noDefaultInfinity: true, min: -65504, max: 65504 }), {
            minLength: s.shape.reduce((a, b) => a * b, 1),
            maxLength: s.shape.reduce((a, b) => a * b, 1),
          })
          .map((xs) => ({ ...s, data: Float32Array.from(xs) })),
      ),
    ),
  );

test("fuzz safetensors: what is written reads back exactly (F32) or within half precision (F16)", async (t) => {
  await check(
    t,
    fc.tuple(tensorList, fc.constantFrom("F32" as const, "F16" as const)),
    async ([tensors, dtype], tally) => {
      const outcome = await sandbox.run("safetensors", writeSafetensors(tensors, dtype));
      assert.equal(breach(outcome, "m.safetensors", tally), undefined);
      assert.equal(outcome.kind, "value");
      const read = (outcome as { value: { name: string; shape: number[]; data: Float32Array }[] }).value;
      // Compared by name: tensors of no bytes at the same offset may come back in either order.
      const byName = new Map(read.map((r) => [r.name, r]));
      assert.equal(byName.size, tensors.length);
      for (const x of tensors) {
        const r = byName.get(x.name)!;
        assert.deepEqual(r.shape, x.shape);
        for (let j = 0; j < x.data.length; j++) {
          const err = Math.abs(r.data[j]! - x.data[j]!);
          if (dtype === "F32") assert.ok(Object.is(r.data[j], x.data[j]), `${r.name}[${j}]`);
          else assert.ok(err <= Math.max(Math.abs(x.data[j]!) * 2 ** -11, 2 ** -25), `${r.name}[${j}]`);
        }
      }
    },
  );
});

/** Edits of a file: bytes anywhere, JSON-ish characters in the header, cuts, insertions, and a header grown by spaces with a length field skewed by `skew` bytes. */
type FileEdit =
  | { kind: "byte"; at: number; value: number }
  | { kind: "headerChar"; at: number; char: string }
  | { kind: "cut"; at: number }
  | { kind: "insert"; at: number; bytes: number[] }
  | { kind: "pad"; spaces: number; skew: number };

const fileEdit: fc.Arbitrary<FileEdit> = fc.oneof(
  fc.record({ kind: fc.constant("byte" as const), at: fc.nat(), value: fc.nat({ max: 255 }) }),
  fc.record({
    kind: fc.constant("headerChar" as const),
    at: fc.nat(),
    char: fc.constantFrom(...'0123456789[],:{}"- .eE'),
  }),
  fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.array(fc.nat({ max: 255 }), { minLength: 1, maxLength: 9 }),
  }),
  fc.record({
    kind: fc.constant("pad" as const),
    spaces: fc.integer({ min: 1, max: 16 }),
    skew: fc.integer({ min: -8, max: 8 }),
  }),
);

function applyEdit(file: Uint8Array, e: FileEdit): Uint8Array {
  const n = file.length >= 8 ? new DataView(file.buffer, file.byteOffset).getUint32(0, true) : 0;
  const headerEnd = Math.min(file.length, 8 + n);
  switch (e.kind) {
    case "byte": {
      const out = file.slice();
      if (out.length) out[e.at % out.length] = e.value;
      return out;
    }
    case "headerChar": {
      const out = file.slice();
      if (headerEnd > 8) out[8 + (e.at % (headerEnd - 8))] = e.char.charCodeAt(0);
      return out;
    }
    case "cut":
      return file.slice(0, e.at % (file.length + 1));
    case "insert": {
      const at = e.at % (file.length + 1);
      return Uint8Array.from([...file.subarray(0, at), ...e.bytes, ...file.subarray(at)]);
    }
    case "pad": {
      if (headerEnd !== 8 + n) return file;
      const out = new Uint8Array(file.length + e.spaces);
      out.set(file.subarray(0, headerEnd));
      out.fill(0x20, headerEnd, headerEnd + e.spaces);
      out.set(file.subarray(headerEnd), headerEnd + e.spaces);
      new DataView(out.buffer).setUint32(0, Math.max(0, n + e.spaces + e.skew), true);
      new DataView(out.buffer).setUint32(4, 0, true);
      return out;
    }
  }
}

test("fuzz safetensors: an edited file is refused in one line or read without shifting a byte", async (t) => {
  const tensors = [
    { name: "w", shape: [3, 2], data: Float32Array.of(1, -2, 3.5, 0.25, -0, 7) },
    { name: "b", shape: [3], data: Float32Array.of(0.5, 1e-3, -9) },
    { name: "e", shape: [0], data: new Float32Array(0) },
    { name: "s", shape: [], data: Float32Array.of(Math.PI) },
  ];
  const good = writeSafetensors(tensors, "F32", { format: "pt" });
  const goodN = new DataView(good.buffer).getUint32(0, true);
  const goodData = good.subarray(8 + goodN);
  await check(t, fc.array(fileEdit, { minLength: 1, maxLength: 3 }), async (edits, tally) => {
    const file = edits.reduce(applyEdit, good);
    const outcome = await sandbox.run("safetensors", file);
    assert.equal(breach(outcome, "m.safetensors", tally), undefined);
    if (outcome.kind !== "value") return;
    // Accepted: the tensors, in the order of their offsets, must be exactly the bytes after the
    // header the reader used — and when only the header changed, those are the original data bytes.
    const read = outcome.value as { name: string; data: Float32Array }[];
    const n = new DataView(file.buffer).getUint32(0, true);
    const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n))) as Record<
      string,
      { data_offsets: [number, number] }
    >;
    const ordered = read
      .map((r) => ({ ...r, begin: header[r.name]!.data_offsets[0], end: header[r.name]!.data_offsets[1] }))
      .sort((a, b) => a.begin - b.begin || a.end - b.end);
    const bytes = Uint8Array.from(
      ordered.flatMap((r) => [...new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength)]),
    );
    assert.deepEqual(bytes, file.subarray(8 + n), "tensors are the data section exactly");
    const headerOnly = edits.every((e) => e.kind === "pad" || e.kind === "headerChar");
    if (headerOnly) assert.deepEqual(bytes, goodData, "header edits never shift the weights");
  });
});

const dimension = fc.oneof(
  fc.nat({ max: 4 }),
  fc.constantFrom<unknown>(-1, 0.5, 2 ** 31, 2 ** 53, 1e300, "2", null),
);
const offset = fc.oneof(fc.nat({ max: 64 }), fc.constantFrom<unknown>(-4, 1.5, 2 ** 53, 1e300, "0", null));

test("fuzz safetensors: arbitrary headers are refused in one line or describe their data exactly", async (t) => {
  const entry = fc.record(
    {
      dtype: fc.constantFrom<unknown>("F32", "F16", "BF16", "I8", "F64", "f32", 3, null),
      shape: fc.oneof(fc.array(dimension, { maxLength: 3 }), fc.constantFrom<unknown>("2", null, {})),
      data_offsets: fc.oneof(fc.tuple(offset, offset), fc.array(offset, { maxLength: 3 })),
    },
    { requiredKeys: [] },
  );
  const header = fc.dictionary(
    fc.oneof(fc.string({ maxLength: 6 }), fc.constant("__metadata__")),
    fc.oneof({ weight: 5, arbitrary: entry }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) }),
    { maxKeys: 4 },
  );
  await check(t, fc.tuple(header, fc.nat({ max: 96 })), async ([h, dataLength], tally) => {
    const json = new TextEncoder().encode(JSON.stringify(h));
    const file = new Uint8Array(8 + json.length + dataLength);
    new DataView(file.buffer).setUint32(0, json.length, true);
    file.set(json, 8);
    const outcome = await sandbox.run("safetensors", file);
    assert.equal(breach(outcome, "m.safetensors", tally), undefined);
    if (outcome.kind !== "value") return;
    const read = outcome.value as { shape: number[]; data: Float32Array }[];
    let bytes = 0;
    for (const r of read) {
      assert.equal(
        r.data.length,
        r.shape.reduce((a, b) => a * b, 1),
      );
      const dtype = (h[(r as unknown as { name: string }).name] as { dtype: string }).dtype;
      bytes += r.data.length * (dtype === "F32" ? 4 : 2);
    }
    assert.equal(bytes, dataLength, "the tensors cover the data section exactly");
  });
});

// ---------------------------------------------------------------------------------------------
// tokenizer.json

test("fuzz tokenizer.json: a tokenizer whose ids are in its vocabulary, or a one-line refusal", async (t) => {
  const base = JSON.parse(tokenizerFromVocab(TINY_VOCAB.join("\n")).toJSON()) as Json;
  const keys = [
    "model",
    "normalizer",
    "pre_tokenizer",
    "post_processor",
    "decoder",
    "added_tokens",
    "truncation",
  ];
  await check(t, jsonTexts(base, keys), async (text, tally) => {
    const outcome = await sandbox.run("tokenizer", text);
    assert.equal(breach(outcome, "tokenizer.json", tally), undefined);
    if (outcome.kind !== "value") return;
    const { vocabSize, encoded } = outcome.value as { vocabSize: number; encoded: (number[] | string)[] };
    for (const e of encoded) {
      if (typeof e === "string") {
        assert.ok(!e.includes("\n") && !INTERNAL.test(e), e);
        continue;
      }
      for (const id of e)
        assert.ok(Number.isInteger(id) && id >= 0 && id < vocabSize, `id ${id} of ${vocabSize}`);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// config.json (through parseConfig, as a black box)

/** An example input shown briefly: the top-level keys whose values differ from `base`, or the text's start. */
function differences(text: string, base: Record<string, Json>): string {
  let o: unknown;
  try {
    o = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch {
    o = undefined;
  }
  if (o === null || typeof o !== "object" || Array.isArray(o))
    return text.length > 80 ? text.slice(0, 79) + "…" : text;
  const changed = Object.entries(o as Record<string, Json>)
    .filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(base[k]))
    .map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v).slice(0, 40)}`);
  const removed = Object.keys(base).filter((k) => !(k in (o as object)));
  return `{${changed.join(", ")}}${removed.length ? ` without ${removed.join(", ")}` : ""}`;
}

test("fuzz config.json: parseConfig returns a config or refuses in one line, in bounded memory", async (t) => {
  const bundled = JSON.parse(readFileSync(join(DEFAULT_MODEL, "config.json"), "utf8")) as Record<
    string,
    Json
  >;
  // Without id2label the class count comes from num_labels: both variants are mutated.
  const { id2label: _id2label, label2id: _label2id, ...unlabelled } = bundled;
  const keys = [
    "model_type",
    "num_labels",
    "id2label",
    "vocab_size",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "hidden_act",
    "max_position_embeddings",
    "type_vocab_size",
    "layer_norm_eps",
    "pad_token_id",
  ];
  // Every kind of breach is collected (not only the first), so that one run lists them all.
  const found = new Map<string, string>();
  // One key set to a hostile value, the rest as the bundled model has it.
  const oneKey = fc
    .tuple(fc.constantFrom(bundled, unlabelled), fc.constantFrom(...keys), hostileValue)
    .map(([base, key, value]) => JSON.stringify({ ...base, [key]: value }));
  // decoder configs (GPT-2, Llama family) with their own keys
  const gpt2 = tinyDecoderConfig("gpt2") as Record<string, Json>;
  const llama = tinyDecoderConfig("llama") as Record<string, Json>;
  const gpt2Keys = [
    "architectures",
    "vocab_size",
    "n_embd",
    "n_layer",
    "n_head",
    "n_inner",
    "n_positions",
    "activation_function",
    "layer_norm_epsilon",
    "eos_token_id",
    "tie_word_embeddings",
  ];
  const llamaKeys = [
    "model_type",
    "architectures",
    "hidden_size",
    "intermediate_size",
    "num_attention_heads",
    "num_key_value_heads",
    "head_dim",
    "rms_norm_eps",
    "rope_theta",
    "rope_scaling",
    "sliding_window",
    "tie_word_embeddings",
    "num_labels",
  ];
  const texts = fc.oneof(
    jsonTexts(bundled, keys),
    jsonTexts(unlabelled, keys),
    oneKey,
    jsonTexts(gpt2, gpt2Keys),
    jsonTexts(llama, llamaKeys),
  );
  await check(t, texts, async (text, tally) => {
    const why = breach(await sandbox.run("config", text), "config.json", tally);
    if (why === undefined) return;
    // One kind per category and message start, whatever input the message quotes.
    const kind = why
      .replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/g, "N")
      .replace(/(["']).*$/, "…")
      .slice(0, 100);
    if (!found.has(kind)) found.set(kind, differences(text, bundled));
  });
  for (const [kind, example] of found) t.diagnostic(`breach: ${kind} — e.g. ${JSON.stringify(example)}`);
  assert.equal(found.size, 0, `${found.size} kind(s) of breach: ${[...found.keys()].join(" | ")}`);
});

// ---------------------------------------------------------------------------------------------
// The CLI's numeric flags (spawned)

const cliDir = tempDir("xait-fuzz-");
const cliModel = join(cliDir, "model");
saveModel(tinyModel("bert", 4), cliModel);
const MAX_THREADS = Math.max(64, cpus().length);

/** The documented range of each flag: whether `value` must be accepted. */
const FLAGS: Record<string, (v: string) => boolean> = {
  gamma: (v) => v.trim() !== "" && Number.isFinite(Number(v)) && Number(v) >= 0 && Number(v) <= 1000,
  steps: (v) => v.trim() !== "" && Number.isSafeInteger(Number(v)) && Number(v) >= 1 && Number(v) <= 10_000,
  seed: (v) => v.trim() !== "" && Number.isSafeInteger(Number(v)),
  threads: (v) =>
    v.trim() !== "" && Number.isSafeInteger(Number(v)) && Number(v) >= 1 && Number(v) <= MAX_THREADS,
  target: (v) => (/^\d+$/.test(v) && Number(v) < 2) || v === "NEGATIVE" || v === "POSITIVE",
};

test("fuzz CLI flags: a correct result for values in range, a one-line error with exit 1 or 2 otherwise", async (t) => {
  const value = fc.oneof(
    fc.double().map(String),
    fc.integer().map(String),
    fc.integer({ min: -3, max: 120 }).map(String),
    fc.string({ maxLength: 10 }),
    fc.constantFrom(
      "NaN",
      "Infinity",
      "-Infinity",
      "1e308",
      "1e-400",
      "0x10",
      "1_0",
      " 7",
      "7 ",
      "",
      "-0",
      "4.0",
      "1e3",
      "10001",
      "NEGATIVE",
      "1\n2",
    ),
  );
  const text = fc.oneof(fc.constant("good movie"), fc.string({ unit: "grapheme", maxLength: 16 }));
  await check(
    t,
    fc.tuple(fc.constantFrom(...Object.keys(FLAGS)), value, text),
    ([flag, v, input], tally) => {
      const r = spawnSync(
        process.execPath,
        [
          "bin/xait.js",
          "explain",
          "--model",
          cliModel,
          "--method",
          "lrp,ig",
          "--json",
          `--${flag}=${v}`,
          "--",
          input,
        ],
        { encoding: "utf8", env: { ...process.env, XAIT_BACKEND: "js", NO_COLOR: "1" } },
      );
      const valid = FLAGS[flag]!(v);
      if (r.status === 0) {
        tally.values++;
        assert.ok(valid, `--${flag}=${JSON.stringify(v)} accepted`);
        const o = JSON.parse(r.stdout);
        assert.ok(o.logits.every(Number.isFinite), "finite logits");
        for (const id of ["lrp", "ig"]) {
          assert.equal(o.explanations[id].attributions.length, o.tokens.length);
          assert.ok(o.explanations[id].attributions.every(Number.isFinite), `${id} finite`);
        }
        if (flag === "target")
          assert.equal(o.target, /^\d+$/.test(v) ? Number(v) : ["NEGATIVE", "POSITIVE"].indexOf(v));
        return;
      }
      tally.refusals++;
      assert.ok(
        r.status === 1 || r.status === 2,
        `exit ${r.status} for --${flag}=${JSON.stringify(v)}: ${r.stderr}`,
      );
      assert.equal(r.stdout, "");
      const lines = r.stderr
        .trimEnd()
        .split("\n")
        .filter((l) => !l.startsWith("warning: "));
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /^error: /);
      assert.doesNotMatch(lines[0]!, INTERNAL);
      if (input === "good movie") assert.ok(!valid, `--${flag}=${JSON.stringify(v)} refused: ${r.stderr}`);
    },
    CLI_RUNS,
  );
});
