/**
 * A graph under construction: nodes, initializers, inputs and outputs, with fresh value names. It
 * implements the engine's GraphEmitter (tensor/trace.ts), so the ops' emitters write into it, and
 * builds the batch-dependent values (masks, positions) from the graph's inputs.
 */
import type { AttrValue, GraphEmitter, Symbol, Value } from "../tensor/trace.js";
import * as proto from "./proto.js";

/** Names of the graph inputs and their symbolic dimensions. */
export const INPUTS = {
  ids: "input_ids",
  mask: "attention_mask",
  types: "token_type_ids",
  seed: "seed",
} as const;

export class GraphBuilder implements GraphEmitter {
  private readonly nodes: proto.Message[] = [];
  private readonly initializers: proto.Message[] = [];
  private readonly inputs: proto.Message[] = [];
  private readonly outputs: proto.Message[] = [];
  private readonly cache = new Map<string, Value>();
  private counter = 0;

  constructor(private readonly symbols: Map<object, Symbol>) {}

  private fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  input(name: string, elemType: number, dims: proto.Dim[]): Value {
    this.inputs.push(proto.valueInfo(name, elemType, dims));
    return name;
  }

  output(name: string, value: Value, dims: proto.Dim[]): void {
    this.nodes.push(proto.node({ op: "Identity", inputs: [value], outputs: [name], name: `out_${name}` }));
    this.outputs.push(proto.valueInfo(name, proto.DataType.FLOAT, dims));
  }

  node(op: string, inputs: Value[], attrs?: Record<string, AttrValue>, domain?: string): Value {
    const out = this.fresh(op.toLowerCase());
    this.nodes.push(
      proto.node({
        op,
        inputs,
        outputs: [out],
        name: out,
        ...(attrs ? { attributes: attrs } : {}),
        ...(domain ? { domain } : {}),
      }),
    );
    return out;
  }

  /** A named initializer (a weight). */
  initializer(name: string, dims: readonly number[], data: proto.TensorData): Value {
    this.initializers.push(proto.tensor(name, dims, data));
    return name;
  }

  private constant(data: proto.TensorData, dims: readonly number[]): Value {
    const small = data.length <= 16;
    const key = small
      ? `${data.constructor.name}:${dims.join(",")}:${Array.from(data as ArrayLike<number | bigint>).join(",")}`
      : "";
    if (small && this.cache.has(key)) return this.cache.get(key)!;
    const name = this.initializer(this.fresh("const"), dims, data);
    if (small) this.cache.set(key, name);
    return name;
  }

  floats(values: ArrayLike<number>, dims?: readonly number[], double = false): Value {
    const data = double ? Float64Array.from(values) : Float32Array.from(values);
    return this.constant(data, dims ?? (values.length === 1 ? [] : [values.length]));
  }

  ints(values: readonly number[], dims?: readonly number[]): Value {
    return this.constant(BigInt64Array.from(values.map((v) => BigInt(v))), dims ?? [values.length]);
  }

  dim(v: Value, axis: number): Value {
    const key = `dim:${v}:${axis}`;
    let d = this.cache.get(key);
    if (!d) {
      d = this.node("Gather", [this.node("Shape", [v]), this.ints([axis], [])], { axis: 0 });
      this.cache.set(key, d);
    }
    return d;
  }

  symbol(of: object): Value {
    const s = this.symbols.get(of);
    if (!s) throw new Error("a batch-dependent value was not marked symbolic");
    const key = `symbol:${JSON.stringify(s)}`;
    let v = this.cache.get(key);
    if (!v) {
      v = this.build(s);
      this.cache.set(key, v);
    }
    return v;
  }

  private range(): Value {
    return this.node("Range", [this.ints([0], []), this.dim(INPUTS.ids, 1), this.ints([1], [])]);
  }

  private build(s: Symbol): Value {
    const { ids, mask, types } = INPUTS;
    switch (s.kind) {
      case "input-ids":
        return ids;
      case "token-type-ids":
        return types;
      case "token-positions":
        return this.range();
      case "position-ids": {
        if (s.numbering === "zero") return this.node("Unsqueeze", [this.range(), this.ints([0])]);
        // RoBERTa: real tokens count from pad + 1, padding sits at pad
        const count = this.node("Mul", [this.node("CumSum", [mask, this.ints([1], [])]), mask]);
        return this.node("Add", [count, this.ints([s.pad], [])]);
      }
      case "explained-positions": {
        const len = this.node("ReduceSum", [mask, this.ints([1])], { keepdims: 0 });
        if (s.at === "first") return this.node("Mul", [len, this.ints([0], [])]);
        return this.node("Max", [this.node("Sub", [len, this.ints([1], [])]), this.ints([0], [])]);
      }
      case "attention-mask": {
        const real = this.node("Cast", [mask], { to: proto.DataType.BOOL });
        if (!s.causal) {
          const blocked = this.node("Not", [real]);
          const add = this.node("Where", [blocked, this.floats([-1e9]), this.floats([0])]);
          return this.node("Unsqueeze", [add, this.ints([1, 2])]);
        }
        const r = this.range();
        // allowed[i, j] = j ≤ i (and key j real); a query with no allowed key keeps key 0
        let allowed = this.node("LessOrEqual", [
          this.node("Unsqueeze", [r, this.ints([0])]),
          this.node("Unsqueeze", [r, this.ints([1])]),
        ]);
        allowed = this.node("Unsqueeze", [allowed, this.ints([0, 1])]);
        if (s.padding)
          allowed = this.node("And", [allowed, this.node("Unsqueeze", [real, this.ints([1, 2])])]);
        const any = this.node(
          "ReduceMax",
          [this.node("Cast", [allowed], { to: proto.DataType.FLOAT }), this.ints([-1])],
          {
            keepdims: 1,
          },
        );
        const none = this.node("Equal", [any, this.floats([0])]);
        const key0 = this.node("Equal", [this.node("Unsqueeze", [r, this.ints([0])]), this.ints([0], [])]);
        allowed = this.node("Or", [allowed, this.node("And", [none, key0])]);
        return this.node("Where", [allowed, this.floats([0]), this.floats([-1e9])]);
      }
    }
  }

  /** The ModelProto bytes. */
  finish(name: string, doc: string, version: string): Uint8Array {
    const g = proto.graph({
      name,
      doc,
      nodes: this.nodes,
      initializers: this.initializers,
      inputs: this.inputs,
      outputs: this.outputs,
    });
    return proto.model(g, "xait", version);
  }
}
