/**
 * From a trace (trace.ts) to graph nodes: the forward nodes of every recorded op in order, then —
 * walking the record in reverse from a seed gradient — the backward nodes, each from the op's own
 * emitter beside its TypeScript definition (ops/*.ts, rules.ts). Gradients flow only into inputs
 * that required one when the op ran, so detached values (the AH- and LN-rules, a held gate) are
 * constants of the backward part exactly as on the tape.
 */
import { binaryEmitters, geluEmitter, scaleEmitter, unaryEmitters } from "./ops/elementwise.js";
import { linearEmitter, matmulEmitter } from "./ops/linalg.js";
import { layerNormEmitter, softmaxEmitter } from "./ops/nn.js";
import { gatherEmitter, permuteEmitter, reshapeEmitter, sliceEmitter } from "./ops/shape.js";
import { repeatHeadsEmitter, rmsNormEmitter, rotaryEmitter, rowsAtEmitter } from "./ops/decoder.js";
import { gammaLinearEmitter, identityRuleEmitter, uniformEmitter } from "./rules.js";
import type { Tensor } from "./tensor.js";
import type { GraphEmitter, OpEmitter, Trace, Value } from "./trace.js";

const EMITTERS: Record<string, OpEmitter> = {
  ...binaryEmitters,
  ...unaryEmitters,
  scale: scaleEmitter,
  gelu: geluEmitter,
  matmul: matmulEmitter,
  linear: linearEmitter,
  softmax: softmaxEmitter,
  "layer-norm": layerNormEmitter,
  reshape: reshapeEmitter,
  permute: permuteEmitter,
  slice: sliceEmitter,
  gather: gatherEmitter,
  "rms-norm": rmsNormEmitter,
  rotary: rotaryEmitter,
  "repeat-heads": repeatHeadsEmitter,
  "rows-at": rowsAtEmitter,
  "identity-rule": identityRuleEmitter,
  uniform: uniformEmitter,
  "gamma-linear": gammaLinearEmitter,
};

/** An op or value the graph cannot express: the method keeps the engine's path. */
export class NotCompilable extends Error {}

/** Where the graph finds tensors no traced op made: the model's weights (by their data). */
export type ConstantLookup = (t: Tensor) => Value | undefined;

export interface EmittedTrace {
  /** The value of a traced tensor. */
  valueOf(t: Tensor): Value;
  /** Emit the backward pass from `seed` (the gradient of `root`); returns the gradient lookup. */
  backward(root: Tensor, seed: Value): (t: Tensor) => Value | undefined;
}

/** Emit the forward nodes of a trace. */
export function emitTrace(e: GraphEmitter, trace: Trace, constant: ConstantLookup): EmittedTrace {
  const values = new Map<Tensor, Value>();
  // views share their data (a detached copy, a reshape): found by data and shape
  const byData = new Map<object, Map<string, Value>>();
  const remember = (t: Tensor, v: Value) => {
    values.set(t, v);
    let m = byData.get(t.data);
    if (!m) byData.set(t.data, (m = new Map()));
    m.set(t.shape.join(","), v);
  };
  const valueOf = (t: Tensor): Value => {
    const v = values.get(t) ?? byData.get(t.data)?.get(t.shape.join(",")) ?? constant(t);
    if (v !== undefined) return v;
    if (trace.symbols.has(t.data)) return e.symbol(t.data);
    throw new NotCompilable(`a tensor of shape [${t.shape.join(",")}] comes from an op that does not trace`);
  };
  for (const op of trace.ops) {
    const em = EMITTERS[op.op];
    if (!em) throw new NotCompilable(`op ${op.op} has no ONNX form`);
    remember(op.output, em.forward(e, op.inputs.map(valueOf), op));
  }
  return {
    valueOf,
    backward(root, seed) {
      const grads = new Map<Tensor, Value>([[root, seed]]);
      for (let i = trace.ops.length - 1; i >= 0; i--) {
        const op = trace.ops[i]!;
        const g = grads.get(op.output);
        if (!g || !op.needsGrad.some(Boolean)) continue;
        const em = EMITTERS[op.op]!;
        if (!em.backward) throw new NotCompilable(`op ${op.op} has no ONNX backward pass`);
        let gs: (Value | null)[];
        try {
          gs = em.backward(e, g, op.inputs.map(valueOf), valueOf(op.output), op);
        } catch (err) {
          throw new NotCompilable(err instanceof Error ? err.message : String(err));
        }
        op.inputs.forEach((t, j) => {
          const gj = gs[j];
          if (!op.needsGrad[j] || !gj) return;
          const have = grads.get(t);
          grads.set(t, have ? e.node("Add", [have, gj]) : gj);
        });
      }
      return (t) => grads.get(t);
    },
  };
}
