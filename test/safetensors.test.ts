import { test } from "node:test";
import assert from "node:assert/strict";
import {
  floatToHalf,
  halfToFloat,
  readSafetensors,
  readSafetensorsMetadata,
  writeSafetensors,
} from "../src/models/safetensors.js";
import { XaitError } from "../src/errors.js";

/** Builds a safetensors file from a header object and raw data, with no validation of its own. */
function rawFile(header: unknown, data: Uint8Array, headerText?: string): Uint8Array {
  const json = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sample() {
  const rand = seeded(7);
  const a = Float32Array.from({ length: 12 }, () => (rand() - 0.5) * 10);
  const b = Float32Array.from({ length: 5 }, () => rand() * 1e-3);
  return [
    { name: "encoder.weight", shape: [3, 4], data: a },
    { name: "encoder.bias", shape: [5], data: b },
    { name: "scalar", shape: [], data: Float32Array.of(Math.PI) },
    { name: "empty", shape: [0, 3], data: new Float32Array(0) },
  ];
}

function refuses(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(
    () => readSafetensors(bytes, "m.safetensors"),
    (e: unknown) => e instanceof XaitError && /^m\.safetensors: /.test(e.message) && pattern.test(e.message),
  );
}

test("F32 round trip is exact, keeps order, shapes and metadata", () => {
  const tensors = sample();
  const bytes = writeSafetensors(tensors, "F32", { format: "pt", note: "xait" });
  const headerLength = new DataView(bytes.buffer).getUint32(0, true);
  assert.equal(headerLength % 8, 0, "header padded to a multiple of 8");
  const read = readSafetensors(bytes);
  assert.deepEqual(
    [...read.keys()],
    tensors.map((t) => t.name),
  );
  for (const t of tensors) {
    assert.deepEqual(read.get(t.name)?.shape, t.shape);
    assert.deepEqual(read.get(t.name)?.data, t.data);
  }
  assert.deepEqual(readSafetensorsMetadata(bytes), { format: "pt", note: "xait" });
});

test("header padding uses spaces and offsets are contiguous from 0", () => {
  const bytes = writeSafetensors(sample(), "F32");
  const n = new DataView(bytes.buffer).getUint32(0, true);
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  assert.match(text, /^\{.*\} *$/);
  const header = JSON.parse(text) as Record<string, { data_offsets: [number, number] }>;
  let expected = 0;
  for (const t of sample()) {
    assert.deepEqual(header[t.name].data_offsets[0], expected);
    expected = header[t.name].data_offsets[1];
  }
  assert.equal(bytes.length, 8 + n + expected);
});

test("F16 round trip is within half precision", () => {
  const tensors = sample();
  const read = readSafetensors(writeSafetensors(tensors, "F16"));
  for (const t of tensors) {
    const got = read.get(t.name)!.data;
    for (let i = 0; i < t.data.length; i++) {
      const x = t.data[i];
      // relative error 2^-11 for normal halves, absolute 2^-25 in the subnormal range
      assert.ok(Math.abs(got[i] - x) <= Math.max(Math.abs(x) * 2 ** -11, 2 ** -25), `${t.name}[${i}]`);
    }
  }
});

test("F16 data after an odd-length F16 tensor is read at unaligned offsets; F32 likewise", () => {
  const tensors = [
    { name: "a", shape: [3], data: Float32Array.of(1, 2, 3) },
    { name: "b", shape: [2], data: Float32Array.of(-0.5, 65504) },
  ];
  const read = readSafetensors(writeSafetensors(tensors, "F16"));
  assert.deepEqual(read.get("b")?.data, Float32Array.of(-0.5, 65504));
  // F32 tensor placed at an odd offset inside a larger buffer
  const f32 = writeSafetensors([{ name: "x", shape: [2], data: Float32Array.of(1.5, -2.25) }], "F32");
  const shifted = new Uint8Array(f32.length + 1);
  shifted.set(f32, 1);
  assert.deepEqual(readSafetensors(shifted.subarray(1)).get("x")?.data, Float32Array.of(1.5, -2.25));
});

test("F16 special values: zeros, subnormals, largest, inf, nan", () => {
  assert.equal(halfToFloat(0x0000), 0);
  assert.ok(Object.is(halfToFloat(0x8000), -0));
  assert.equal(halfToFloat(0x0001), 2 ** -24);
  assert.equal(halfToFloat(0x03ff), 1023 * 2 ** -24);
  assert.equal(halfToFloat(0x0400), 2 ** -14);
  assert.equal(halfToFloat(0x3c00), 1);
  assert.equal(halfToFloat(0xc000), -2);
  assert.equal(halfToFloat(0x7bff), 65504);
  assert.equal(halfToFloat(0x7c00), Infinity);
  assert.equal(halfToFloat(0xfc00), -Infinity);
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
  assert.ok(Number.isNaN(halfToFloat(0xfd01)));
  // The same through a file with hand-made bytes.
  const halves = [0x0001, 0x8000, 0x7bff, 0x7c00, 0xfc00, 0x7e00, 0x3555];
  const data = new Uint8Array(halves.length * 2);
  halves.forEach((h, i) => new DataView(data.buffer).setUint16(2 * i, h, true));
  const got = readSafetensors(
    rawFile({ h: { dtype: "F16", shape: [halves.length], data_offsets: [0, data.length] } }, data),
    "h.safetensors",
    { allowNonFinite: true },
  ).get("h")!.data;
  assert.equal(got[0], Math.fround(2 ** -24));
  assert.ok(Object.is(got[1], -0));
  assert.deepEqual([got[2], got[3], got[4]], [65504, Infinity, -Infinity]);
  assert.ok(Number.isNaN(got[5]));
  assert.equal(got[6], Math.fround(halfToFloat(0x3555)));
});

test("F16 encoding rounds to nearest, ties to even, and saturates to inf", () => {
  assert.equal(floatToHalf(1), 0x3c00);
  assert.equal(floatToHalf(1 + 2 ** -11), 0x3c00, "tie rounds down to even mantissa");
  assert.equal(floatToHalf(1 + 3 * 2 ** -11), 0x3c02, "tie rounds up to even mantissa");
  assert.equal(floatToHalf(1 + 2 ** -11 + 2 ** -20), 0x3c01, "above the tie rounds up");
  assert.equal(floatToHalf(65504), 0x7bff);
  assert.equal(floatToHalf(65519), 0x7bff);
  assert.equal(floatToHalf(65520), 0x7c00, "halfway to 2^16 rounds to inf");
  assert.equal(floatToHalf(1e10), 0x7c00);
  assert.equal(floatToHalf(-Infinity), 0xfc00);
  assert.equal(floatToHalf(NaN) & 0x7c00, 0x7c00);
  assert.notEqual(floatToHalf(NaN) & 0x3ff, 0);
  assert.equal(floatToHalf(2 ** -24), 0x0001);
  assert.equal(floatToHalf(2 ** -25), 0x0000, "tie at the smallest subnormal rounds to even zero");
  assert.equal(floatToHalf(3 * 2 ** -25), 0x0002, "tie rounds up to even");
  assert.equal(floatToHalf(1023.5 * 2 ** -24), 0x0400, "subnormal rounding carries into the first normal");
  assert.equal(floatToHalf(-0), 0x8000);
  assert.equal(floatToHalf(1e-10), 0);
  // Every finite half survives half → float → half exactly.
  for (let h = 0; h < 0x10000; h++) {
    if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) continue;
    assert.equal(floatToHalf(halfToFloat(h)), h);
  }
});

test("BF16 decode of hand-made bytes", () => {
  // 1.0 = 0x3f80, -2.0 = 0xc000, pi ≈ 0x4049, inf = 0x7f80, 1e-40 (subnormal) = 0x0001
  const bits = [0x3f80, 0xc000, 0x4049, 0x7f80, 0x0001, 0x7fc0];
  const data = new Uint8Array(bits.length * 2);
  bits.forEach((b, i) => new DataView(data.buffer).setUint16(2 * i, b, true));
  const got = readSafetensors(
    rawFile({ b: { dtype: "BF16", shape: [2, 3], data_offsets: [0, data.length] } }, data),
    "b.safetensors",
    { allowNonFinite: true },
  ).get("b")!;
  assert.deepEqual(got.shape, [2, 3]);
  assert.equal(got.data[0], 1);
  assert.equal(got.data[1], -2);
  assert.equal(got.data[2], 3.140625);
  assert.equal(got.data[3], Infinity);
  assert.equal(got.data[4], 2 ** -133);
  assert.ok(Number.isNaN(got.data[5]));
});

test("refuses malformed files with a message naming the file and the problem", () => {
  const good = writeSafetensors(sample(), "F32");
  const four = new Uint8Array(16);
  refuses(new Uint8Array(5), /too short/);
  refuses(good.subarray(0, good.length - 1), /past the end of the data section/);
  refuses(good.subarray(0, 40), /header length \d+ runs past the end of the file/);
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setUint32(4, 1, true);
  refuses(huge, /absurd/);
  const big = new Uint8Array(16);
  new DataView(big.buffer).setUint32(0, 200 * 1024 * 1024, true);
  refuses(big, /absurd/);
  refuses(rawFile(null, four, "{not json"), /not valid JSON/);
  refuses(rawFile(null, four, "[1,2]"), /not a JSON object/);
  refuses(rawFile(null, four, '"text"'), /not a JSON object/);
  refuses(rawFile({ t: { dtype: "F32", shape: [4], data_offsets: [4, 20] } }, four), /past the end/);
  refuses(rawFile({ t: { dtype: "F32", shape: [2], data_offsets: [12, 4] } }, four), /data_offsets/);
  refuses(rawFile({ t: { dtype: "F32", shape: [2], data_offsets: [0, 8, 9] } }, four), /data_offsets/);
  refuses(rawFile({ t: { dtype: "F32", shape: [2], data_offsets: [0.5, 8] } }, four), /data_offsets/);
  refuses(
    rawFile(
      {
        a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
        b: { dtype: "F32", shape: [2], data_offsets: [4, 12] },
      },
      four,
    ),
    /tensors a \[0,8\] and b \[4,12\] overlap/,
  );
  refuses(
    rawFile(
      {
        a: { dtype: "F32", shape: [3], data_offsets: [0, 12] },
        z: { dtype: "F32", shape: [0], data_offsets: [4, 4] },
        b: { dtype: "F32", shape: [1], data_offsets: [8, 12] },
      },
      four,
    ),
    /overlap/,
  );
  refuses(
    rawFile({ t: { dtype: "I64", shape: [2], data_offsets: [0, 16] } }, four),
    /unknown dtype "I64" \(known: F32, F16, BF16\)/,
  );
  refuses(rawFile({ t: { shape: [2], data_offsets: [0, 8] } }, four), /unknown dtype/);
  refuses(
    rawFile({ t: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, four),
    /shape \[3\] of F32 \(12 bytes\) but data_offsets span 8 bytes/,
  );
  refuses(rawFile({ t: { dtype: "F32", shape: [-1], data_offsets: [0, 8] } }, four), /shape \[-1\]/);
  refuses(rawFile({ t: { dtype: "F32", shape: "2", data_offsets: [0, 8] } }, four), /shape "2"/);
  refuses(rawFile({ t: { dtype: "F32", shape: [1e300], data_offsets: [0, 8] } }, four), /shape/);
  refuses(rawFile({ t: { dtype: "F32", shape: [2 ** 30, 2 ** 30], data_offsets: [0, 8] } }, four), /bytes/);
  refuses(rawFile({ t: 5 }, four), /tensor t is not described by an object/);
  refuses(rawFile({ __metadata__: { a: 1 } }, four), /"__metadata__" entry "a" is not a string/);
  const badUtf8 = rawFile({}, four);
  badUtf8[8] = 0xff;
  refuses(badUtf8, /UTF-8/);
});

test("accepts an empty header, trailing spaces and zero-length tensors", () => {
  assert.equal(readSafetensors(rawFile(null, new Uint8Array(0), "{}")).size, 0);
  const read = readSafetensors(
    rawFile(null, new Uint8Array(0), '{"z":{"dtype":"BF16","shape":[2,0],"data_offsets":[0,0]}}   '),
  );
  assert.deepEqual(read.get("z"), { shape: [2, 0], data: new Float32Array(0) });
});

test("writer refuses inconsistent input", () => {
  assert.throws(
    () => writeSafetensors([{ name: "w", shape: [2, 2], data: new Float32Array(3) }], "F32"),
    (e: unknown) =>
      e instanceof XaitError && /tensor w has shape \[2,2\] \(4 values\) but 3 values/.test(e.message),
  );
  const t = { name: "w", shape: [1], data: new Float32Array(1) };
  assert.throws(() => writeSafetensors([t, t], "F32"), XaitError);
  assert.throws(() => writeSafetensors([{ ...t, name: "__metadata__" }], "F32"), XaitError);
});

test("random byte mutations either parse or throw XaitError", () => {
  const rand = seeded(2024);
  const good = writeSafetensors(sample(), "F16", { format: "pt" });
  const n = new DataView(good.buffer).getUint32(0, true);
  let parsed = 0;
  let refused = 0;
  for (let trial = 0; trial < 3000; trial++) {
    let bytes = good.slice();
    const edits = 1 + Math.floor(rand() * 4);
    for (let e = 0; e < edits; e++) {
      const kind = rand();
      // Favour the length prefix and the header, where structure lives.
      const limit = rand() < 0.8 ? Math.min(bytes.length, 8 + n) : bytes.length;
      const at = Math.floor(rand() * limit);
      if (kind < 0.6) bytes[at] = Math.floor(rand() * 256);
      else if (kind < 0.8) bytes[at] = '0123456789[],:{}"- '.charCodeAt(Math.floor(rand() * 19));
      else if (kind < 0.9) bytes = bytes.subarray(0, at);
      else bytes[at] ^= 1 << Math.floor(rand() * 8);
    }
    try {
      readSafetensors(bytes);
      parsed++;
    } catch (e) {
      if (!(e instanceof XaitError)) assert.fail(`trial ${trial}: ${String(e)}`);
      refused++;
    }
  }
  assert.ok(parsed > 0 && refused > 0, `parsed ${parsed}, refused ${refused}`);
});

/** A float32 tensor's raw little-endian bytes. */
function f32Bytes(...xs: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(xs).buffer);
}

test("the data section must be the tensors' bytes exactly: from 0, no gaps, nothing after the last", () => {
  const twelve = new Uint8Array(12);
  refuses(
    rawFile({ t: { dtype: "F32", shape: [2], data_offsets: [4, 12] } }, twelve),
    /the first tensor t begins at byte 4 of the data section, not 0/,
  );
  refuses(
    rawFile(
      {
        a: { dtype: "F32", shape: [1], data_offsets: [0, 4] },
        b: { dtype: "F32", shape: [1], data_offsets: [8, 12] },
      },
      twelve,
    ),
    /4 bytes between tensors a \[0,4\] and b \[8,12\] belong to no tensor/,
  );
  refuses(
    rawFile({ t: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, twelve),
    /the tensors end at byte 8 of the data section but the file has 12 bytes after the header \(4 extra\)/,
  );
  refuses(rawFile({}, new Uint8Array(1)), /end at byte 0 .* 1 bytes after the header/);
  // Listed out of order in the header but contiguous once sorted: accepted, as by the reference reader.
  const read = readSafetensors(
    rawFile(
      {
        b: { dtype: "F32", shape: [1], data_offsets: [8, 12] },
        e: { dtype: "F16", shape: [0], data_offsets: [12, 12] },
        a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
      },
      f32Bytes(1, 2, 3),
    ),
  );
  assert.deepEqual(read.get("a")?.data, Float32Array.of(1, 2));
  assert.deepEqual(read.get("b")?.data, Float32Array.of(3));
  assert.deepEqual(read.get("e")?.data, new Float32Array(0));
});

test("a header length field 4 bytes short (trailing spaces keep the JSON valid) is refused, not shifted", () => {
  const good = writeSafetensors(sample(), "F32");
  const view = new DataView(good.buffer, good.byteOffset);
  const n = view.getUint32(0, true);
  const text = new TextDecoder().decode(good.subarray(8, 8 + n));
  // Make room: the header gets 4 more trailing spaces, then the length field is left at the old value.
  const padded = rawFile(null, good.subarray(8 + n), text + "    ");
  new DataView(padded.buffer).setUint32(0, n, true);
  assert.doesNotThrow(
    () => JSON.parse(new TextDecoder().decode(padded.subarray(8, 8 + n))),
    "still valid JSON",
  );
  refuses(padded, /but the file has \d+ bytes after the header \(4 extra\)/);
  // The same file with the right length reads back exactly.
  new DataView(padded.buffer).setUint32(0, n + 4, true);
  assert.deepEqual(readSafetensors(padded).get("encoder.weight")?.data, sample()[0]!.data);
});

test("bytes appended after the last tensor are refused", () => {
  const good = writeSafetensors(sample(), "F16");
  const longer = new Uint8Array(good.length + 3);
  longer.set(good);
  refuses(longer, /\(3 extra\): header length field wrong or bytes appended\?/);
});

test("NaN or infinite weights are refused naming the tensor, for F32, F16 and BF16", () => {
  const f32 = rawFile(
    {
      ok: { dtype: "F32", shape: [1], data_offsets: [0, 4] },
      "layer.3.weight": { dtype: "F32", shape: [2], data_offsets: [4, 12] },
    },
    f32Bytes(1, 0.5, NaN),
  );
  refuses(f32, /tensor layer\.3\.weight holds a non-finite value \(NaN\) at index 1/);
  const half = (dtype: string, bits: number[]) => {
    const data = new Uint8Array(bits.length * 2);
    bits.forEach((b, i) => new DataView(data.buffer).setUint16(2 * i, b, true));
    return rawFile({ w: { dtype, shape: [bits.length], data_offsets: [0, data.length] } }, data);
  };
  refuses(half("F16", [0x3c00, 0x7c00]), /tensor w holds a non-finite value \(Infinity\) at index 1/);
  refuses(half("F16", [0xfc00]), /tensor w holds a non-finite value \(-Infinity\) at index 0/);
  refuses(half("BF16", [0x3f80, 0x3f80, 0x7fc0]), /tensor w holds a non-finite value \(NaN\) at index 2/);
  // The largest finite values are fine.
  assert.deepEqual(readSafetensors(half("F16", [0x7bff])).get("w")?.data, Float32Array.of(65504));
  const largestBf16 = new Float32Array(new Uint32Array([0x7f7f0000]).buffer)[0];
  assert.equal(readSafetensors(half("BF16", [0x7f7f])).get("w")?.data[0], largestBf16);
});

test("the writer refuses values it could not read back: NaN, ±Infinity, and F16 overflow", () => {
  const one = (x: number) => [{ name: "w", shape: [2], data: Float32Array.of(0, x) }];
  const refusesToWrite = (x: number, dtype: "F32" | "F16", pattern: RegExp) =>
    assert.throws(
      () => writeSafetensors(one(x), dtype),
      (e: unknown) => e instanceof XaitError && pattern.test(e.message),
    );
  refusesToWrite(NaN, "F32", /tensor w holds a non-finite value \(NaN\) at index 1; not written/);
  refusesToWrite(-Infinity, "F16", /non-finite value \(-Infinity\)/);
  refusesToWrite(65520, "F16", /tensor w holds 65520 at index 1, beyond F16's range/);
  refusesToWrite(-1e6, "F16", /beyond F16's range/);
  // 65519 rounds down to 65504, the largest half; F32 takes any finite float.
  assert.deepEqual(
    readSafetensors(writeSafetensors(one(65519), "F16")).get("w")?.data,
    Float32Array.of(0, 65504),
  );
  assert.deepEqual(
    readSafetensors(writeSafetensors(one(3e38), "F32")).get("w")?.data,
    Float32Array.of(0, 3e38),
  );
});
