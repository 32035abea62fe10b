/** The journal format, the shard slices and the declarative flag table, on hand-made cases. */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  identityDifferences,
  journalLine,
  parseJournal,
  roundTrip,
  type JournalHeader,
  type JournalIdentity,
} from "../src/evaluate/journal.js";
import { mergeShards, parseShard, shardSamples } from "../src/evaluate/shard.js";
import { flagHelp, parseFlags } from "../src/cli/flags.js";
import { XaitError } from "../src/errors.js";

const identity: JournalIdentity = {
  evaluation: "perturbation",
  xait: "0.1.0",
  model: "aa",
  data: "bb",
  methods: ["lrp"],
  options: { gamma: 0, block: 2 },
  seed: 42,
  samples: 3,
};
const header: JournalHeader = { journal: 1, identity, shard: null, context: {} };
const rec = (i: number) => journalLine({ i, wall_ms: 1.5, result: { v: i / 3 } });

test("a journal reads back its header and records; numbers (NaN and ±Infinity too) round-trip exactly", () => {
  const text = journalLine(header) + rec(0) + rec(2);
  const j = parseJournal<{ v: number }>(text, "j.jsonl");
  assert.deepEqual(j.header, header);
  assert.deepEqual(
    j.records.map((r) => [r.i, r.result.v]),
    [
      [0, 0],
      [2, 2 / 3],
    ],
  );
  assert.equal(j.torn, false);
  const odd = { a: NaN, b: Infinity, c: -Infinity, d: 0.1 + 0.2, e: -0 };
  const back = roundTrip(odd);
  assert.ok(Number.isNaN(back.a));
  assert.equal(back.b, Infinity);
  assert.equal(back.c, -Infinity);
  assert.equal(back.d, 0.30000000000000004);
});

test("a torn last line is dropped; a corrupt line elsewhere is an error naming file and line", () => {
  const good = journalLine(header) + rec(0);
  const torn = parseJournal(good + '{"i":1,"wal', "j.jsonl");
  assert.equal(torn.torn, true);
  assert.equal(torn.records.length, 1);
  assert.equal(torn.completeLength, good.length);
  assert.throws(
    () => parseJournal(journalLine(header) + '{"i":0,"wa\n' + rec(1), "j.jsonl"),
    (e: unknown) =>
      e instanceof XaitError &&
      e.message === "j.jsonl: line 2 is corrupt (not JSON); the journal cannot be read",
  );
  assert.throws(() => parseJournal(rec(0), "x.jsonl"), /x\.jsonl: line 1 is not the header/);
  assert.throws(
    () => parseJournal(journalLine(header) + rec(3), "j.jsonl"),
    /line 2: sample 3 is outside 0–2/,
  );
});

test("identity differences name the keys and options that differ", () => {
  assert.deepEqual(identityDifferences(identity, { ...identity }), []);
  assert.deepEqual(
    identityDifferences(identity, { ...identity, model: "cc", options: { gamma: 0.25, block: 2 }, seed: 1 }),
    ["model content", "gamma", "seed"],
  );
});

test("shards: blocks dealt round-robin; disjoint, covering, the same for any N", () => {
  // 10 samples in blocks of 2: blocks 0..4; shard 1/2 holds blocks 0, 2, 4
  assert.deepEqual(shardSamples(10, 2, { k: 1, n: 2 }), [0, 1, 4, 5, 8, 9]);
  assert.deepEqual(shardSamples(10, 2, { k: 2, n: 2 }), [2, 3, 6, 7]);
  for (const n of [1, 2, 3, 7, 12]) {
    const all = Array.from({ length: n }, (_, k) => shardSamples(23, 3, { k: k + 1, n })).flat();
    assert.deepEqual(
      all.sort((a, b) => a - b),
      Array.from({ length: 23 }, (_, i) => i),
    );
  }
  assert.deepEqual(parseShard("2/3"), { k: 2, n: 3 });
  assert.deepEqual(parseShard("3/3"), { k: 3, n: 3 });
  for (const bad of ["0/3", "4/3", "a/b", "1/0", "-1/3", "1.5/3", ""])
    assert.throws(
      () => parseShard(bad),
      (e: unknown) => e instanceof XaitError && e.exitCode === 2,
    );
});

test("merging shards: incomplete and foreign records are named", () => {
  const r = (i: number) => ({ i, wall_ms: 0, result: null });
  const s1 = { source: "a", shard: { k: 1, n: 2 }, records: [r(0), r(1), r(4)] };
  const s2 = { source: "b", shard: { k: 2, n: 2 }, records: [r(2), r(3)] };
  assert.deepEqual(
    mergeShards([s2, s1], 5, 2)
      .map((x) => x.i)
      .sort(),
    [0, 1, 2, 3, 4],
  );
  assert.throws(
    () => mergeShards([{ ...s1, records: [r(0), r(4)] }, s2], 5, 2),
    /^XaitError: a \(shard 1\/2\) is incomplete: 2 of 3 samples \(first missing: 1\); finish it with --resume$/,
  );
  assert.throws(
    () => mergeShards([{ ...s1, records: [...s1.records, r(2)] }, s2], 5, 2),
    /a \(shard 1\/2\) holds sample 2/,
  );
  assert.throws(() => mergeShards([s1, { ...s2, shard: { k: 2, n: 3 } }], 5, 2), /one of 3 shards/);
});

test("the flag table: numbers checked against their ranges, defaults once, the help from the same table", () => {
  const table = {
    steps: { kind: "number", value: "N", integer: true, min: 1, default: 50, help: "IG steps" },
    fraction: { kind: "number", value: "F", min: 0, max: 0.9, help: "held-out part" },
    dtype: { kind: "string", value: "T", choices: ["f16", "f32"], default: "f16", help: "precision" },
    quiet: { kind: "boolean", help: "say less" },
  } as const;
  const { values } = parseFlags(table, ["--fraction", "0.25"]);
  assert.deepEqual(values, { steps: 50, fraction: 0.25, dtype: "f16", quiet: false });
  assert.equal(parseFlags(table, ["--steps", "7", "--quiet"]).values.steps, 7);
  const usage = (argv: string[], message: string) =>
    assert.throws(
      () => parseFlags(table, argv),
      (e: unknown) => e instanceof XaitError && e.exitCode === 2 && e.message === message,
    );
  usage(["--steps", "0"], "--steps must be at least 1, got 0");
  usage(["--steps", "2.5"], "--steps must be an integer, got '2.5'");
  usage(["--fraction", "0.95"], "--fraction must be at most 0.9, got 0.95");
  usage(["--fraction", "x"], "--fraction must be a number, got 'x'");
  usage(["--dtype", "f64"], "--dtype must be f16 or f32, got 'f64'");
  const help = flagHelp(table);
  assert.match(help, /^ {2}--steps N +IG steps \[integer, ≥ 1; default 50\]$/m);
  assert.match(help, /^ {2}--fraction F +held-out part \[≥ 0, ≤ 0\.9\]$/m);
  assert.match(help, /^ {2}--dtype T +precision \[default f16\]$/m);
  assert.match(help, /^ {2}--quiet +say less$/m);
});
