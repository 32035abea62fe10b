/**
 * The tracing mode of the engine: while a trace is active, every op records itself (its kind, its
 * input tensors, its output and its attributes) as it computes. A model's forward pass run once
 * under a rule set, on a small probe batch, so yields the exact sequence of ops an explanation
 * executes; onnx-emit.ts turns that record into a static graph — the forward nodes, then, walking
 * the record in reverse, the backward nodes. Rules need no special record: a detached tensor is a
 * new tensor that does not require a gradient, so no gradient is emitted through it.
 *
 * Values that depend on the input batch rather than on the weights (token ids, position ids,
 * attention masks, explained positions) are marked `symbolic` by the model, so that the graph
 * computes them from its inputs instead of freezing the probe's values.
 */
import type { Tensor } from "./tensor.js";

/** The batch-dependent values a graph computes from its inputs. */
export type Symbol =
  | { kind: "input-ids" }
  | { kind: "token-type-ids" }
  | { kind: "position-ids"; numbering: "zero" | "roberta"; pad: number }
  /** Additive attention mask: [B,1,T,T] (causal) or [B,1,1,T] (padding). */
  | { kind: "attention-mask"; causal: boolean; padding: boolean }
  /** Index of the position each row's head reads: 0 or the last real token. */
  | { kind: "explained-positions"; at: "first" | "last" }
  /** Position of every token: 0..T−1 in each row. */
  | { kind: "token-positions" };

export type OpAttributes = Record<string, unknown>;

export interface TracedOp {
  op: string;
  inputs: Tensor[];
  output: Tensor;
  attrs: OpAttributes;
  /** Whether each input required a gradient when the op ran (the backward pass flows only there). */
  needsGrad: boolean[];
}

export interface Trace {
  ops: TracedOp[];
  /** Batch-dependent values by identity (arrays or tensor data). */
  symbols: Map<object, Symbol>;
}

let active: Trace | null = null;

/** Run `fn` while recording every op into a new trace. */
export function tracing<T>(fn: () => T): { value: T; trace: Trace } {
  const prev = active;
  const trace: Trace = { ops: [], symbols: new Map() };
  active = trace;
  try {
    return { value: fn(), trace };
  } finally {
    active = prev;
  }
}

export function isTracing(): boolean {
  return active !== null;
}

/** Record an op (ops call this; a no-op unless tracing). */
export function record(op: string, inputs: Tensor[], output: Tensor, attrs: OpAttributes = {}): Tensor {
  if (active) active.ops.push({ op, inputs, output, attrs, needsGrad: inputs.map((t) => t.requiresGrad) });
  return output;
}

/** Mark a batch-dependent value (a no-op unless tracing). */
export function symbolic<T extends object>(value: T, symbol: Symbol): T {
  if (active) active.symbols.set(value, symbol);
  return value;
}

/** A value of the graph under construction: its name. */
export type Value = string;

export type AttrValue = number | string | number[] | { floats: number[] } | { float: number };

/**
 * What an op's ONNX emitter builds with: nodes, constants and the values of symbols. Shapes of the
 * probe batch are known (the recorded tensors'); dimension 0 (batch) and the sequence dimension are
 * dynamic in the graph, so emitters read only the other dimensions as constants.
 */
export interface GraphEmitter {
  /** A node with one output; returns its name. `domain` "com.microsoft": an onnxruntime contrib op. */
  node(op: string, inputs: Value[], attrs?: Record<string, AttrValue>, domain?: string): Value;
  /** A float32 constant (an initializer); float64 when `double`. */
  floats(values: ArrayLike<number>, dims?: readonly number[], double?: boolean): Value;
  /** An int64 constant. */
  ints(values: readonly number[], dims?: readonly number[]): Value;
  /** Size of dimension `axis` of a value, as a 0-D int64 (dynamic). */
  dim(v: Value, axis: number): Value;
  /** The value computing a batch-dependent array or tensor (marked `symbolic`) from the graph's inputs. */
  symbol(of: object): Value;
}

/** The ONNX form of one op: its forward nodes and the nodes of its backward pass. */
export interface OpEmitter {
  forward(e: GraphEmitter, inputs: Value[], op: TracedOp): Value;
  /** Gradients for the inputs from the output's gradient `g` (null where none flows). */
  backward?(e: GraphEmitter, g: Value, inputs: Value[], output: Value, op: TracedOp): (Value | null)[];
}
