/**
 * Compile an explanation to one ONNX graph. An explanation under a rule map is a fixed computation —
 * the forward pass with some quantities held constant, then one backward pass from the seeded
 * logits to the embeddings — so the model's forward is traced once on a small probe batch
 * (tensor/trace.ts) and emitted as forward and backward nodes (tensor/onnx-emit.ts), with the
 * weights as initializers and the batch and sequence dimensions dynamic.
 *
 * Graph inputs: input_ids, attention_mask, token_type_ids (int64 [batch, sequence]) and, for an
 * explanation, seed (float32 [batch, outputs]: ∂f/∂logits, one-hot on the target, minus one-hot on a
 * contrast). Outputs: logits (float32 [batch, outputs]) and, for an explanation, relevance (float32
 * [batch, sequence]: Σ_d E·∂f/∂E, or Σ_d |∂f/∂E| for saliency) and block_relevance (float32
 * [batch, blocks + 1]: Σ x·∂f/∂x at every block input and at the last block's output).
 */
import type { Batch, Reading, RuleMap, TransformerModel } from "../models/index.js";
import { GRADIENT_RULES, makeBatch } from "../models/index.js";
import { noGrad, type Tensor } from "../tensor/index.js";
import { emitTrace, NotCompilable } from "../tensor/onnx-emit.js";
import { tracing } from "../tensor/trace.js";
import { VERSION } from "../version.js";
import { GraphBuilder, INPUTS } from "./graph.js";
import { DataType } from "./proto.js";

export { NotCompilable };

/** What a graph computes: the plain forward pass, or an explanation under a rule map. */
export type GraphKind = { kind: "forward" } | { kind: "explain"; rules: RuleMap; reading: Reading };

export interface CompiledGraph {
  bytes: Uint8Array;
  inputs: string[];
  outputs: string[];
  /** Number of entries of block_relevance per row (blocks + 1), 0 for a forward graph. */
  layers: number;
}

/** The probe batch the forward pass is traced on: two rows, the second padded, never length 1. */
function probeBatch(model: TransformerModel): Batch {
  const seq = Math.max(2, Math.min(6, model.capabilities.maxTokens));
  const vocab = model.config.vocabSize;
  const row = (n: number) => ({ ids: Array.from({ length: n }, (_, t) => (t * 7 + 3) % vocab) });
  return makeBatch([row(seq), row(seq - 1)], model.config.padTokenId % vocab);
}

/** Compile a graph of a model; NotCompilable when an op has no ONNX form. */
export function compileGraph(model: TransformerModel, what: GraphKind, description = ""): CompiledGraph {
  const weights = new Map<object, string>();
  for (const [name, t] of model.params) {
    if (t.dtype !== "float32") throw new NotCompilable(`weight ${name} is ${t.dtype}; graphs are float32`);
    weights.set(t.data, name);
  }
  const batch = probeBatch(model);
  const rules = what.kind === "explain" ? what.rules : GRADIENT_RULES;
  const { value, trace } = tracing(() => {
    const E = noGrad(() => model.embed(batch));
    if (what.kind === "explain") E.requireGrad();
    const blockInputs: Tensor[] = [];
    const logits = model.encode(E, batch, { rules, trace: { attention: [], blockInputs } });
    return { E, logits, blockInputs };
  });
  const g = new GraphBuilder(trace.symbols);
  const dims = ["batch", "sequence"];
  g.input(INPUTS.ids, DataType.INT64, dims);
  g.input(INPUTS.mask, DataType.INT64, dims);
  g.input(INPUTS.types, DataType.INT64, dims);
  const used = new Map<object, string>();
  const emitted = emitTrace(g, trace, (t) => {
    const name = weights.get(t.data);
    if (name === undefined || t.size !== model.params.get(name)!.size) return undefined;
    const key = used.get(t.data);
    if (key) return key;
    used.set(t.data, g.initializer(name, model.params.get(name)!.shape, t.data));
    return name;
  });
  const outputs = model.numLabels;
  g.output("logits", emitted.valueOf(value.logits), ["batch", outputs]);
  let layers = 0;
  if (what.kind === "explain") {
    const seed = g.input(INPUTS.seed, DataType.FLOAT, ["batch", outputs]);
    const grad = emitted.backward(value.logits, seed);
    const gE = grad(value.E);
    if (!gE) throw new NotCompilable("no gradient reaches the embeddings");
    const E = emitted.valueOf(value.E);
    const hidden = g.ints([2]);
    const relevance =
      what.reading === "saliency"
        ? g.node("ReduceSum", [g.node("Abs", [gE]), hidden], { keepdims: 0 })
        : g.node("ReduceSum", [g.node("Mul", [E, gE]), hidden], { keepdims: 0 });
    g.output("relevance", relevance, ["batch", "sequence"]);
    const sums = value.blockInputs.map((x) => {
      const gx = grad(x);
      const s = gx
        ? g.node("ReduceSum", [g.node("Mul", [emitted.valueOf(x), gx]), g.ints([1, 2])], { keepdims: 0 })
        : g.node("Mul", [g.node("ReduceSum", [relevance, g.ints([1])], { keepdims: 0 }), g.floats([0])]);
      return g.node("Unsqueeze", [s, g.ints([1])]);
    });
    layers = sums.length;
    g.output("block_relevance", g.node("Concat", sums, { axis: 1 }), ["batch", layers]);
  }
  const bytes = g.finish(`xait_${what.kind}`, description, VERSION);
  if (bytes.length > 2 ** 31 - 1)
    throw new NotCompilable("the model is too large for one ONNX file (2 GiB protobuf limit)");
  return {
    bytes,
    inputs: [INPUTS.ids, INPUTS.mask, INPUTS.types, ...(what.kind === "explain" ? [INPUTS.seed] : [])],
    outputs: what.kind === "explain" ? ["logits", "relevance", "block_relevance"] : ["logits"],
    layers,
  };
}
