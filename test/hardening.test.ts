/**
 * The failures of a fuzzing pass (piped input, silently wrong weights, unbounded resources, messages
 * that were not one line), each rebuilt from the bundled model in a temporary folder and run through
 * the CLI as a user would.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { DEFAULT_MODEL } from "../src/cli/io.js";
import { tempDir } from "./helpers/temp-dir.js";

const root = tempDir("xait-harden-");
const env = { ...process.env, XAIT_BACKEND: "js", NO_COLOR: "1" };

const xait = (args: string[], input?: string) =>
  spawnSync(process.execPath, ["bin/xait.js", ...args], { encoding: "utf8", input, env });

/** A copy of the bundled model in a fresh folder, with `change` applied to its files. */
function bundledCopy(name: string, change: (dir: string) => void = () => {}): string {
  const dir = join(root, name);
  mkdirSync(dir);
  for (const f of ["config.json", "model.safetensors", "tokenizer.json"])
    copyFileSync(join(DEFAULT_MODEL, f), join(dir, f));
  change(dir);
  return dir;
}

/** The one-line error of a run that must fail with `code`. */
function refused(r: ReturnType<typeof xait>, code: number, message: RegExp): void {
  assert.equal(r.status, code, r.stderr);
  assert.equal(r.stdout, "");
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^error: /);
  assert.match(lines[0]!, message);
  assert.doesNotMatch(lines[0]!, /Cannot read properties|is not iterable|undefined|Maximum call stack/);
}

/** The header length, header text and data of a safetensors file. */
function split(bytes: Uint8Array): { n: number; header: string; data: Uint8Array } {
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  return { n, header: new TextDecoder().decode(bytes.subarray(8, 8 + n)), data: bytes.subarray(8 + n) };
}

function join8(headerLength: number, header: string, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, headerLength, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const SENTENCE = "a good film";
const reference = xait(["explain", "--model", DEFAULT_MODEL, "--json", SENTENCE]);
const referenceLogits = JSON.parse(reference.stdout).logits as number[];

test("the reference run: the bundled model says POSITIVE with high confidence", () => {
  assert.equal(reference.status, 0, reference.stderr);
  const o = JSON.parse(reference.stdout);
  assert.equal(o.predicted_label, "POSITIVE");
  assert.ok(o.probabilities[1] > 0.9, String(o.probabilities));
});

test("stdin from a slow producer is read to its end (was EAGAIN)", () => {
  const r = spawnSync(
    "sh",
    [
      "-c",
      `(sleep 1; echo "${SENTENCE}"; sleep 1; echo "a bad film") | "${process.execPath}" bin/xait.js explain --json`,
    ],
    { encoding: "utf8", env },
  );
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    lines.map((o) => o.text),
    [SENTENCE, "a bad film"],
  );
  assert.deepEqual(lines[0].logits, referenceLogits);
});

test("a header length field 4 bytes short is refused instead of loading shifted weights", () => {
  const dir = bundledCopy("short-header", (d) => {
    const { n, header, data } = split(readFileSync(join(d, "model.safetensors")));
    // 4 more trailing spaces in the header, the length field left 4 short: the JSON stays valid.
    writeFileSync(join(d, "model.safetensors"), join8(n, header + "    ", data));
  });
  refused(xait(["explain", "--model", dir, SENTENCE]), 1, /model\.safetensors: .*\(4 extra\)/);
  // With the right length field the same file loads and gives the reference logits exactly.
  const fixed = bundledCopy("padded-header", (d) => {
    const { n, header, data } = split(readFileSync(join(d, "model.safetensors")));
    writeFileSync(join(d, "model.safetensors"), join8(n + 4, header + "    ", data));
  });
  const r = xait(["explain", "--model", fixed, "--json", SENTENCE]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).logits, referenceLogits);
});

test("bytes appended after the last tensor are refused with their count", () => {
  const dir = bundledCopy("appended", (d) => {
    const bytes = readFileSync(join(d, "model.safetensors"));
    writeFileSync(join(d, "model.safetensors"), Buffer.concat([bytes, Buffer.from("garbage")]));
  });
  refused(
    xait(["explain", "--model", dir, SENTENCE]),
    1,
    /\(7 extra\): header length field wrong or bytes appended/,
  );
});

// The bundled model stores F16: NaN is 0x7e00, −∞ is 0xfc00.
for (const [label, bits, shown] of [
  ["NaN", 0x7e00, "NaN"],
  ["infinite", 0xfc00, "-Infinity"],
] as const) {
  test(`a ${label} weight is refused naming its tensor (was an internal error or null logits)`, () => {
    const dir = bundledCopy(`nonfinite-${label}`, (d) => {
      const bytes = new Uint8Array(readFileSync(join(d, "model.safetensors")));
      const { n, header } = split(bytes);
      const entries = JSON.parse(header) as Record<string, { dtype: string; data_offsets: [number, number] }>;
      const name = Object.keys(entries).find(
        (k) => k.includes("layer.2") && k.endsWith("output.dense.weight"),
      )!;
      assert.equal(entries[name]!.dtype, "F16");
      new DataView(bytes.buffer).setUint16(8 + n + entries[name]!.data_offsets[0] + 2 * 5, bits, true);
      writeFileSync(join(d, "model.safetensors"), bytes);
    });
    refused(
      xait(["explain", "--model", dir, "--json", SENTENCE]),
      1,
      new RegExp(
        `tensor bert\\.encoder\\.layer\\.2\\..*output\\.dense\\.weight holds a non-finite value \\(${shown}\\) at index 5`,
      ),
    );
  });
}

test("config.json or tokenizer.json linked to an endless device or a FIFO is refused without reading it", () => {
  const zero = bundledCopy("dev-zero", (d) => {
    const p = join(d, "config.json");
    rmSync(p);
    symlinkSync("/dev/zero", p);
  });
  refused(xait(["explain", "--model", zero, SENTENCE]), 1, /config\.json is not a regular file/);
  const fifo = bundledCopy("fifo", (d) => {
    const p = join(d, "tokenizer.json");
    rmSync(p);
    assert.equal(spawnSync("mkfifo", [p]).status, 0);
  });
  refused(xait(["explain", "--model", fifo, SENTENCE]), 1, /tokenizer\.json is not a regular file/);
  const folder = bundledCopy("folder", (d) => {
    const p = join(d, "tokenizer.json");
    rmSync(p);
    mkdirSync(p);
  });
  refused(xait(["explain", "--model", folder, SENTENCE]), 1, /tokenizer\.json is a folder, not a file/);
});

test("a config.json over its size cap is refused by its size", () => {
  const dir = bundledCopy("big-config", (d) => {
    const text = readFileSync(join(d, "config.json"), "utf8");
    writeFileSync(join(d, "config.json"), text + " ".repeat(17 * 1024 * 1024));
  });
  refused(
    xait(["explain", "--model", dir, SENTENCE]),
    1,
    /config\.json is 17\.0 MiB, more than the 16\.0 MiB xait reads/,
  );
});

test("JSON nested 100,000 deep is refused in one line (was Maximum call stack size exceeded)", () => {
  for (const file of ["config.json", "tokenizer.json"]) {
    const dir = bundledCopy(`deep-${file}`, (d) => {
      const o = JSON.parse(readFileSync(join(d, file), "utf8"));
      const text = JSON.stringify({ ...o, deep: "@" }).replace(
        '"@"',
        "[".repeat(100_000) + "]".repeat(100_000),
      );
      writeFileSync(join(d, file), text);
    });
    refused(
      xait(["explain", "--model", dir, SENTENCE]),
      1,
      new RegExp(`${file.replace(".", "\\.")}: arrays and objects nested more than 256 levels deep`),
    );
  }
});

test("a config.json with a UTF-8 byte-order mark loads as without it", () => {
  const dir = bundledCopy("bom", (d) => {
    const text = readFileSync(join(d, "config.json"), "utf8");
    writeFileSync(join(d, "config.json"), "\uFEFF" + text);
  });
  assert.deepEqual([...readFileSync(join(dir, "config.json")).subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  const r = xait(["explain", "--model", dir, "--json", SENTENCE]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).logits, referenceLogits);
});

test("a tokenizer.json with a wrong model section names the section (was a library's internal message)", () => {
  const cases: [string, (m: Record<string, unknown>) => Record<string, unknown>, RegExp][] = [
    [
      "vocab-array",
      (m) => ({ ...m, vocab: [1, 2] }),
      /"model\.vocab" must be an object mapping tokens to ids/,
    ],
    ["bpe", (m) => ({ ...m, type: "BPE" }), /"model\.merges" of a BPE model must be an array/],
    ["type", (m) => ({ ...m, type: 7 }), /"model\.type" is 7, expected WordPiece/],
  ];
  for (const [name, change, message] of cases) {
    const dir = bundledCopy(`tokenizer-${name}`, (d) => {
      const o = JSON.parse(readFileSync(join(d, "tokenizer.json"), "utf8"));
      writeFileSync(join(d, "tokenizer.json"), JSON.stringify({ ...o, model: change(o.model) }));
    });
    refused(xait(["explain", "--model", dir, SENTENCE]), 1, message);
  }
  const post = bundledCopy("tokenizer-post", (d) => {
    const o = JSON.parse(readFileSync(join(d, "tokenizer.json"), "utf8"));
    writeFileSync(
      join(d, "tokenizer.json"),
      JSON.stringify({ ...o, post_processor: { type: "TemplateProcessing" } }),
    );
  });
  refused(
    xait(["explain", "--model", post, SENTENCE]),
    1,
    /tokenizer\.json: cannot be loaded: the "post_processor" section is malformed/,
  );
});

test("--html naming an existing folder is a usage error before any work, and leaves no file behind", () => {
  const out = join(root, "html-folder");
  mkdirSync(out);
  refused(xait(["explain", "--html", out, SENTENCE]), 2, /--html .*html-folder is a folder/);
  refused(xait(["explain", "--html", "", SENTENCE]), 2, /--html : expected a file name/);
  assert.deepEqual(readdirSync(out), []);
  assert.deepEqual(
    readdirSync(root).filter((f) => f.includes(".tmp-")),
    [],
  );
  // A file inside the folder is written.
  const file = join(out, "report.html");
  const r = xait(["explain", "--html", file, SENTENCE]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(file));
  assert.deepEqual(readdirSync(out), ["report.html"]);
});

test("numeric flags outside their sane range are usage errors (exit 2)", () => {
  const cases: [string[], RegExp][] = [
    [["explain", "--threads", "1000", SENTENCE], /--threads must be at most \d+, got 1000/],
    [["explain", "--steps", "1e9", SENTENCE], /--steps must be at most 10000, got 1000000000/],
    [["explain", "--gamma", "1e308", SENTENCE], /--gamma must be at most 1000, got 1e\+308/],
    [["explain", "--gamma=-0.5", SENTENCE], /--gamma must be at least 0/],
    [["explain", "--seed", "1e300", SENTENCE], /--seed must be an integer, got '1e300'/],
    [["explain", "--steps", "Infinity", SENTENCE], /--steps must be an integer/],
    [["bench", "--reps", "1e9"], /--reps must be at most 1000/],
    [["bench", "--seq", Array(9).fill("8").join(",")], /--seq takes at most 8 lengths, got 9/],
    [["bench", "--threads", "0"], /--threads must be at least 1/],
    [["bench", "--batch", "0"], /--batch must be at least 1, got 0/],
    [["bench", "--batch", "1e6"], /--batch must be at most 256/],
    [["bench", "--batch", "2.5"], /--batch must be an integer, got '2.5'/],
    [["bench", "--backend", "cuda"], /--backend takes native, wasm, js, got 'cuda'/],
    [["bench", "--backend", "js,js"], /--backend names js twice/],
  ];
  for (const [args, message] of cases) refused(xait(args), 2, message);
});

test("a closed stdout ends the run quietly (was an unhandled EPIPE with a stack trace)", () => {
  const err = join(root, "epipe.err");
  const rc = join(root, "epipe.rc");
  spawnSync(
    "sh",
    [
      "-c",
      `{ "${process.execPath}" bin/xait.js explain --json a b c d 2>"${err}"; echo $? >"${rc}"; } | true`,
    ],
    { encoding: "utf8", env },
  );
  assert.equal(readFileSync(err, "utf8"), "");
  assert.equal(readFileSync(rc, "utf8").trim(), "0");
});

// ---------------------------------------------------------------------------------------------
// The helpers behind the fixes, in-process

test("readStdinLines joins chunks split anywhere, drops empty lines and CRs, and caps the bytes", async () => {
  const { Readable } = await import("node:stream");
  const { readStdinLines } = await import("../src/cli/io.js");
  const text = "a good film\r\n\n  the plot is thin  \nnaïve ending";
  const bytes = Buffer.from(text);
  // Chunks split inside lines and inside the two bytes of "ï".
  const chunks = [bytes.subarray(0, 3), bytes.subarray(3, 35), bytes.subarray(35, 37), bytes.subarray(37)];
  assert.deepEqual(await readStdinLines(Readable.from(chunks)), [
    "a good film",
    "the plot is thin",
    "naïve ending",
  ]);
  assert.deepEqual(await readStdinLines(Readable.from([])), []);
  await assert.rejects(
    readStdinLines(Readable.from([Buffer.alloc(600, 0x61), Buffer.alloc(600, 0x61)]), 1000),
    /^XaitError: stdin holds more than 1000 bytes/,
  );
});

test("parseJsonText: BOM dropped, depth counted outside strings only, size capped, one-line errors", async () => {
  const { jsonDepth, parseJsonText, MAX_JSON_DEPTH } = await import("../src/json-file.js");
  assert.deepEqual(parseJsonText('\uFEFF{"a":[1,{"b":2}]}', "x.json"), { a: [1, { b: 2 }] });
  assert.equal(jsonDepth('{"a":[1,{"b":2}]}'), 3);
  assert.equal(jsonDepth('["[[[[", "\\"[[[", {"k]]": "{{"}]'), 2);
  assert.equal(jsonDepth("[]".repeat(5)), 1);
  const deep = "[".repeat(MAX_JSON_DEPTH) + "]".repeat(MAX_JSON_DEPTH);
  assert.equal((parseJsonText(deep, "x.json") as unknown[]).length, 1);
  assert.throws(
    () => parseJsonText("[" + deep + "]", "x.json"),
    /^XaitError: x\.json: arrays and objects nested more than 256/,
  );
  assert.throws(
    () => parseJsonText("[1,2,3]", "x.json", 5),
    /^XaitError: x\.json: 7 characters, more than the 5 xait reads$/,
  );
  assert.throws(
    () => parseJsonText('{"a":\n\n 1,,}', "x.json"),
    (e: unknown) =>
      e instanceof Error && /^x\.json: not valid JSON \(/.test(e.message) && !e.message.includes("\n"),
  );
});

test("readRegularFile refuses devices, FIFOs and folders before reading, and files over the cap", async () => {
  const { readRegularFile, readJsonFileText } = await import("../src/json-file-node.js");
  const dir = join(root, "files");
  mkdirSync(dir);
  const file = join(dir, "ten.json");
  writeFileSync(file, '\uFEFF["1234"]');
  assert.deepEqual(readJsonFileText(file, "ten.json"), '["1234"]');
  assert.throws(
    () => readRegularFile(file, "ten.json", 9),
    /^XaitError: ten\.json is 11 bytes, more than the 9 bytes xait reads$/,
  );
  assert.equal(readRegularFile(file, "ten.json", 11).length, 11);
  assert.throws(() => readRegularFile("/dev/zero", "zero"), /^XaitError: zero is not a regular file/);
  const link = join(dir, "link");
  symlinkSync("/dev/zero", link);
  assert.throws(() => readRegularFile(link, "link"), /^XaitError: link is not a regular file/);
  const fifo = join(dir, "fifo");
  assert.equal(spawnSync("mkfifo", [fifo]).status, 0);
  assert.throws(() => readRegularFile(fifo, "fifo"), /^XaitError: fifo is not a regular file/);
  assert.throws(() => readRegularFile(dir, "dir"), /^XaitError: dir is a folder, not a file$/);
  assert.throws(() => readRegularFile(join(dir, "nope"), "nope"), /^XaitError: nope does not exist$/);
});
