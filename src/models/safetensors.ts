import { XaitError } from "../errors.js";

/**
 * The safetensors format (Hugging Face): an 8-byte little-endian u64 header length N, N bytes of
 * UTF-8 JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {str: str}}`, then
 * the raw little-endian tensor data; offsets count from the start of the data section.
 *
 * Reading is strict: anything malformed is refused with an XaitError naming the file and the problem,
 * and nothing is allocated from an unchecked length.
 */

/** A tensor as xait holds it: float32 data in row-major order. */
export interface SafetensorsTensor {
  shape: number[];
  data: Float32Array;
}

/** The dtypes xait reads (all converted to float32). */
export type SafetensorsDtype = "F32" | "F16" | "BF16";

/** The dtypes xait writes. */
export type SafetensorsWriteDtype = "F32" | "F16";

const DTYPE_BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };
const KNOWN_DTYPES = Object.keys(DTYPE_BYTES) as SafetensorsDtype[];

/** Refuse headers larger than this: a real header is kilobytes, a corrupt length could be petabytes. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

const METADATA_KEY = "__metadata__";

interface HeaderEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

interface ParsedHeader {
  entries: HeaderEntry[];
  metadata: Record<string, string>;
  dataStart: number;
}

/** Options of readSafetensors. */
export interface ReadSafetensorsOptions {
  /** Accept NaN and ±Infinity in the data (default false: a weight file holding them is refused). */
  allowNonFinite?: boolean;
  /** Where each tensor's values go (default: a new Float32Array; e.g. `residentArray`). */
  allocate?: (count: number) => Float32Array;
}

/**
 * Reads every tensor of a safetensors file as float32 (F32, F16 and BF16 are accepted). Unless
 * `allowNonFinite`, a tensor holding NaN or ±Infinity is refused with an error naming it.
 */
export function readSafetensors(
  bytes: Uint8Array,
  fileName = "model.safetensors",
  options: ReadSafetensorsOptions = {},
): Map<string, SafetensorsTensor> {
  const header = parseHeader(bytes, fileName);
  const tensors = new Map<string, SafetensorsTensor>();
  // In the order of the data (as written), not of the header's keys: JSON objects put integer-like keys first.
  const inFileOrder = [...header.entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (const entry of inFileOrder) {
    const start = header.dataStart + entry.begin;
    const count = entry.shape.reduce((a, b) => a * b, 1);
    const data = decode(bytes, start, count, entry.dtype, options.allocate);
    if (!options.allowNonFinite) checkFinite(entry.name, data, fileName);
    tensors.set(entry.name, { shape: entry.shape, data });
  }
  return tensors;
}

/** The `__metadata__` string map of a safetensors file (empty when absent). Validates the header too. */
export function readSafetensorsMetadata(
  bytes: Uint8Array,
  fileName = "model.safetensors",
): Record<string, string> {
  return parseHeader(bytes, fileName).metadata;
}

/**
 * Serialises tensors in the given order, F32 exactly or F16 with round-to-nearest-even. The JSON
 * header is padded with spaces to a multiple of 8 bytes, as Hugging Face's writer does.
 */
export function writeSafetensors(
  tensors: { name: string; shape: number[]; data: Float32Array }[],
  dtype: SafetensorsWriteDtype,
  metadata?: Record<string, string>,
): Uint8Array {
  if (dtype !== "F32" && dtype !== "F16") {
    throw new XaitError(`safetensors: cannot write dtype "${String(dtype)}" (use F32 or F16)`);
  }
  const size = DTYPE_BYTES[dtype];
  const header: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (metadata !== undefined) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== "string") {
        throw new XaitError(`safetensors: metadata "${key}" must be a string, got ${typeof value}`);
      }
    }
    header[METADATA_KEY] = { ...metadata };
  }
  let offset = 0;
  for (const t of tensors) {
    if (t.name === METADATA_KEY)
      throw new XaitError(`safetensors: "${METADATA_KEY}" is not a valid tensor name`);
    if (Object.prototype.hasOwnProperty.call(header, t.name)) {
      throw new XaitError(`safetensors: tensor ${t.name} is given twice`);
    }
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new XaitError(`safetensors: tensor ${t.name} has invalid shape [${t.shape.join(",")}]`);
    }
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new XaitError(
        `safetensors: tensor ${t.name} has shape [${t.shape.join(",")}] (${count} values) but ${t.data.length} values`,
      );
    }
    checkWritable(t.name, t.data, dtype);
    const end = offset + count * size;
    header[t.name] = { dtype, shape: [...t.shape], data_offsets: [offset, end] };
    offset = end;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const withSpaces = new Uint8Array(padded).fill(0x20);
    withSpaces.set(json);
    json = withSpaces;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, json.length, true);
  view.setUint32(4, 0, true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const t of tensors) {
    if (dtype === "F32") writeF32(view, pos, t.data);
    else writeF16(view, pos, t.data);
    pos += t.data.length * size;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Header parsing and validation

function parseHeader(bytes: Uint8Array, fileName: string): ParsedHeader {
  const fail = (problem: string): never => {
    throw new XaitError(`${fileName}: ${problem}`);
  };
  if (bytes.length < 8) {
    fail(`file is ${bytes.length} bytes, too short for a safetensors header (needs at least 8)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  const headerLength = high * 2 ** 32 + low;
  if (high !== 0 || headerLength > MAX_HEADER_BYTES) {
    fail(
      `header length ${headerLength} is absurd (limit ${MAX_HEADER_BYTES} bytes); not a safetensors file?`,
    );
  }
  if (headerLength > bytes.length - 8) {
    fail(
      `header length ${headerLength} runs past the end of the file (${bytes.length} bytes); file truncated?`,
    );
  }
  let text = "";
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    fail("header is not valid UTF-8");
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    fail("header is not valid JSON");
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    fail("header is not a JSON object");
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      metadata = parseMetadata(value, fail);
      continue;
    }
    entries.push(parseEntry(name, value, dataLength, fail));
  }
  checkLayout(entries, dataLength, fail);
  return { entries, metadata, dataStart };
}

/**
 * The data section must be exactly the tensors' bytes, as the format's reference reader demands:
 * sorted by [begin, end], the first tensor begins at 0, each begins where the previous one ended (no
 * gap, no overlap) and the last one ends at the end of the file. A header length field that is a few
 * bytes off (trailing spaces keep the JSON valid) or bytes appended to the file are caught here.
 */
function checkLayout(entries: HeaderEntry[], dataLength: number, fail: (problem: string) => never): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let previous: HeaderEntry | undefined;
  for (const cur of sorted) {
    const start = previous?.end ?? 0;
    if (cur.begin > start) {
      fail(
        previous === undefined
          ? `the first tensor ${cur.name} begins at byte ${cur.begin} of the data section, not 0`
          : `${cur.begin - start} bytes between tensors ${previous.name} [${previous.begin},${previous.end}] and ${cur.name} [${cur.begin},${cur.end}] belong to no tensor`,
      );
    }
    if (cur.begin < start) {
      fail(
        `tensors ${previous!.name} [${previous!.begin},${previous!.end}] and ${cur.name} [${cur.begin},${cur.end}] overlap`,
      );
    }
    previous = cur;
  }
  const end = previous?.end ?? 0;
  if (end !== dataLength) {
    fail(
      `the tensors end at byte ${end} of the data section but the file has ${dataLength} bytes after the header (${dataLength - end} extra): header length field wrong or bytes appended?`,
    );
  }
}

/** Largest value that F16 rounds to a finite number (65504 and everything rounding down to it). */
const F16_LIMIT = 65520;

/**
 * Throws naming the tensor when a value cannot be written as one xait will read back: NaN, ±Infinity,
 * or (F16) a magnitude that rounds to infinity. A diverged training run thus cannot replace a good
 * model folder with a file that loading refuses.
 */
function checkWritable(name: string, data: Float32Array, dtype: SafetensorsWriteDtype): void {
  const limit = dtype === "F16" ? F16_LIMIT : Infinity;
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    if (!(Math.abs(x) < limit)) {
      throw new XaitError(
        Number.isFinite(x)
          ? `safetensors: tensor ${name} holds ${x} at index ${i}, beyond F16's range (±65504); write F32`
          : `safetensors: tensor ${name} holds a non-finite value (${x}) at index ${i}; not written`,
      );
    }
  }
}

/** Throws naming the tensor when its decoded data holds NaN or ±Infinity. */
function checkFinite(name: string, data: Float32Array, fileName: string): void {
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    if (x - x !== 0) {
      throw new XaitError(
        `${fileName}: tensor ${name} holds a non-finite value (${x}) at index ${i}; the weights are broken (training diverged?)`,
      );
    }
  }
}

function parseMetadata(value: unknown, fail: (problem: string) => never): Record<string, string> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    fail(`"${METADATA_KEY}" is not an object of strings`);
  }
  const metadata: Record<string, string> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== "string") fail(`"${METADATA_KEY}" entry "${key}" is not a string`);
    metadata[key] = v as string;
  }
  return metadata;
}

function parseEntry(
  name: string,
  value: unknown,
  dataLength: number,
  fail: (problem: string) => never,
): HeaderEntry {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    fail(`tensor ${name} is not described by an object`);
  }
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== "string" || !(KNOWN_DTYPES as string[]).includes(dtype)) {
    fail(
      `tensor ${name} has unknown dtype ${JSON.stringify(dtype) ?? "(none)"} (known: ${KNOWN_DTYPES.join(", ")})`,
    );
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(
      `tensor ${name} has shape ${JSON.stringify(shape) ?? "(none)"}, expected an array of non-negative integers`,
    );
  }
  const dims = shape as number[];
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  ) {
    fail(
      `tensor ${name} has data_offsets ${JSON.stringify(offsets) ?? "(none)"}, expected [begin,end] integers`,
    );
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataLength) {
    fail(`tensor ${name} data [${begin},${end}] lies past the end of the data section (${dataLength} bytes)`);
  }
  const size = DTYPE_BYTES[dtype as SafetensorsDtype];
  let count = 1;
  for (const d of dims) {
    count *= d;
    if (!Number.isSafeInteger(count * size)) break;
  }
  if (!Number.isSafeInteger(count * size) || count * size !== end - begin) {
    fail(
      `tensor ${name} has shape [${dims.join(",")}] of ${dtype} (${count * size} bytes) but data_offsets span ${end - begin} bytes`,
    );
  }
  return { name, dtype: dtype as SafetensorsDtype, shape: [...dims], begin, end };
}

// ---------------------------------------------------------------------------------------------
// Decoding (always into a fresh Float32Array the caller owns, from `allocate` when given)

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function decode(
  bytes: Uint8Array,
  start: number,
  count: number,
  dtype: SafetensorsDtype,
  allocate?: (count: number) => Float32Array,
): Float32Array {
  const out = allocate && count > 0 ? allocate(count) : new Float32Array(count);
  if (count === 0) return out;
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, count * DTYPE_BYTES[dtype]);
  if (dtype === "F32") {
    if (LITTLE_ENDIAN) {
      // Copying the bytes also takes care of data that is not 4-byte aligned in the file.
      new Uint8Array(out.buffer, out.byteOffset, count * 4).set(bytes.subarray(start, start + count * 4));
    } else {
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
    }
  } else if (dtype === "F16") {
    const table = halfTable();
    for (let i = 0; i < count; i++) out[i] = table[view.getUint16(2 * i, true)];
  } else {
    // BF16 is the upper half of a float32.
    const bits = new Uint32Array(out.buffer, out.byteOffset, count);
    for (let i = 0; i < count; i++) bits[i] = view.getUint16(2 * i, true) << 16;
  }
  return out;
}

let HALF_TABLE: Float32Array | undefined;

/** All 65536 half-precision values as float32, built on first use. */
function halfTable(): Float32Array {
  if (HALF_TABLE === undefined) {
    HALF_TABLE = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) HALF_TABLE[h] = halfToFloat(h);
  }
  return HALF_TABLE;
}

/** IEEE 754 binary16 bits → number: subnormals, ±0, ±inf and NaN included. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

// ---------------------------------------------------------------------------------------------
// Encoding

function writeF32(view: DataView, pos: number, data: Float32Array): void {
  if (LITTLE_ENDIAN) {
    new Uint8Array(view.buffer, pos, data.length * 4).set(
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    );
  } else {
    for (let i = 0; i < data.length; i++) view.setFloat32(pos + 4 * i, data[i], true);
  }
}

function writeF16(view: DataView, pos: number, data: Float32Array): void {
  for (let i = 0; i < data.length; i++) view.setUint16(pos + 2 * i, floatToHalf(data[i]), true);
}

const SCRATCH_F32 = new Float32Array(1);
const SCRATCH_U32 = new Uint32Array(SCRATCH_F32.buffer);

/** float32 → IEEE 754 binary16 bits, rounding to nearest, ties to even; overflow gives ±inf. */
export function floatToHalf(value: number): number {
  SCRATCH_F32[0] = value;
  const x = SCRATCH_U32[0];
  const sign = (x >>> 16) & 0x8000;
  const abs = x & 0x7fffffff;
  if (abs >= 0x7f800000) return abs > 0x7f800000 ? sign | 0x7e00 : sign | 0x7c00; // NaN, inf
  const exponent = (abs >>> 23) - 127;
  if (exponent > 15) return sign | 0x7c00;
  if (exponent < -14) {
    // Subnormal half: the value in units of 2^-24, rounded half to even (exact in double precision).
    return sign | roundHalfEven(Math.abs(SCRATCH_F32[0]) * 2 ** 24);
  }
  const mantissa = abs & 0x7fffff;
  let h = ((exponent + 15) << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h += 1; // a carry may reach inf: correct
  return sign | h;
}

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
