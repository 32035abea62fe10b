/**
 * A small writer of ONNX protobuf bytes: the fields of ModelProto, GraphProto, NodeProto,
 * AttributeProto, TensorProto and ValueInfoProto that a static inference graph needs. Messages are
 * built as lists of byte chunks, so a large initializer (a weight matrix) is referenced, not copied,
 * until the one final concatenation.
 */

/** ONNX TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9, DOUBLE: 11 } as const;

/** Protobuf wire types. */
const VARINT = 0;
const FIXED32 = 5;
const LENGTH = 2;

/** A protobuf message under construction: chunks and their total length. */
export class Message {
  private readonly parts: Uint8Array[] = [];
  length = 0;

  private push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.parts.push(bytes);
    this.length += bytes.length;
  }

  private varint(v: number | bigint): void {
    let n = BigInt.asUintN(64, BigInt(v));
    const out: number[] = [];
    while (n >= 0x80n) {
      out.push(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    out.push(Number(n));
    this.push(Uint8Array.from(out));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, v: number | bigint): this {
    this.tag(field, VARINT);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, LENGTH);
    this.varint(b.length);
    this.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, m: Message): this {
    this.tag(field, LENGTH);
    this.varint(m.length);
    for (const p of m.parts) this.push(p);
    return this;
  }

  /** The encoded bytes (one copy). */
  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

export type AttributeValue = number | string | number[] | { floats: number[] } | { float: number };

/** AttributeProto: an int, a float ({ float: v }), a string, ints or floats ({ floats }). */
export function attribute(name: string, value: AttributeValue): Message {
  const m = new Message().string(1, name);
  if (typeof value === "number") {
    if (!Number.isInteger(value)) return m.float(2, value).int(20, 1);
    return m.int(3, value).int(20, 2);
  }
  if (typeof value === "string") return m.string(4, value).int(20, 3);
  if (Array.isArray(value)) {
    for (const v of value) m.int(8, v);
    return m.int(20, 7);
  }
  if ("float" in value) return m.float(2, value.float).int(20, 1);
  for (const v of value.floats) m.float(7, v);
  return m.int(20, 6);
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attributes?: Record<string, AttributeValue>;
  /** Operator domain ("" = ONNX; "com.microsoft" = onnxruntime's contrib ops). */
  domain?: string;
}

/** NodeProto. An empty input name is an omitted optional input. */
export function node(spec: NodeSpec): Message {
  const m = new Message();
  for (const i of spec.inputs) m.string(1, i);
  for (const o of spec.outputs) m.string(2, o);
  m.string(3, spec.name).string(4, spec.op);
  for (const [k, v] of Object.entries(spec.attributes ?? {})) m.message(5, attribute(k, v));
  if (spec.domain) m.string(7, spec.domain);
  return m;
}

export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

function dataTypeOf(data: TensorData): number {
  if (data instanceof Float32Array) return DataType.FLOAT;
  if (data instanceof Float64Array) return DataType.DOUBLE;
  if (data instanceof BigInt64Array) return DataType.INT64;
  if (data instanceof Int32Array) return DataType.INT32;
  return DataType.BOOL;
}

/** TensorProto with raw little-endian data (the platform's byte order, little-endian on x86 and ARM). */
export function tensor(name: string, dims: readonly number[], data: TensorData): Message {
  const m = new Message();
  for (const d of dims) m.int(1, d);
  m.int(2, dataTypeOf(data)).string(8, name);
  return m.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

/** One dimension: a fixed size or a symbolic name (dynamic). */
export type Dim = number | string;

/** ValueInfoProto of a tensor. */
export function valueInfo(name: string, elemType: number, dims: readonly Dim[]): Message {
  const shape = new Message();
  for (const d of dims) {
    const dim = new Message();
    if (typeof d === "number") dim.int(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new Message().int(1, elemType).message(2, shape);
  return new Message().string(1, name).message(2, new Message().message(1, tensorType));
}

export interface GraphSpec {
  name: string;
  nodes: Message[];
  initializers: Message[];
  inputs: Message[];
  outputs: Message[];
  doc?: string;
}

export function graph(spec: GraphSpec): Message {
  const m = new Message();
  for (const n of spec.nodes) m.message(1, n);
  m.string(2, spec.name);
  for (const t of spec.initializers) m.message(5, t);
  if (spec.doc) m.string(10, spec.doc);
  for (const i of spec.inputs) m.message(11, i);
  for (const o of spec.outputs) m.message(12, o);
  return m;
}

/** The IR version that goes with opset 18. */
export const IR_VERSION = 8;
export const OPSET = 18;

/** ModelProto around a graph. */
export function model(g: Message, producer: string, version: string): Uint8Array {
  const opset = new Message().string(1, "").int(2, OPSET);
  const contrib = new Message().string(1, "com.microsoft").int(2, 1);
  return new Message()
    .int(1, IR_VERSION)
    .string(2, producer)
    .string(3, version)
    .message(7, g)
    .message(8, opset)
    .message(8, contrib)
    .finish();
}
