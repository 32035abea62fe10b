/** `xait export`: a method compiled to one ONNX graph, as a file any onnxruntime binding can run. */
import { usageError, XaitError } from "../errors.js";
import { getMethod, rulesFor } from "../explain/index.js";
import { GRADIENT_RULES, parseRuleList } from "../models/index.js";
import { loadModel } from "../node.js";
import { compileGraph, NotCompilable, type GraphKind } from "../onnx/compile.js";
import { COMPILED_METHODS } from "../onnx/register-node.js";
import { registerCommand } from "./commands.js";
import { flagHelp, GAMMA_FLAG, parseFlags, type FlagTable } from "./flags.js";
import { checkOutputFile, DEFAULT_MODEL, modelDir, writeFileAtomic } from "./io.js";

export const EXPORT_FLAGS = {
  model: {
    kind: "string",
    value: "DIR",
    help: `model folder; default: the bundled\n${DEFAULT_MODEL}`,
  },
  method: {
    kind: "string",
    value: "M",
    default: "lrp",
    help: `what the graph computes: ${[...COMPILED_METHODS, "forward"].join(", ")}`,
  },
  out: { kind: "string", value: "FILE", help: "the .onnx file to write (required)" },
  rule: {
    kind: "string",
    value: "SITE=RULE",
    multiple: true,
    help: "override a site of the method's rule map (as in xait explain)",
  },
  gamma: GAMMA_FLAG,
} as const satisfies FlagTable;

const HELP = `Usage: xait export --out FILE [--model DIR] [--method M] [--rule SITE=RULE] [--gamma G]

Compile an explanation method (or the plain forward pass) of a model to one ONNX graph (opset 18
and onnxruntime's FusedMatMul, float32, weights as initializers) and write it to FILE. Any
onnxruntime binding (Python, C/C++, C#, Java, JavaScript) runs it with one call per batch; rows are
padded on the right.

Inputs (int64 [batch, sequence] unless noted; batch and sequence are dynamic):
  input_ids        token ids, padded with the model's pad id
  attention_mask   1 for real tokens, 0 for padding
  token_type_ids   segment ids (zeros for one text)
  seed             float32 [batch, outputs], methods only: ∂f/∂logits — 1 at the explained class
                   (or next token), −1 at a contrast, 0 elsewhere
Outputs (float32):
  logits           [batch, outputs] at each row's explained position
  relevance        [batch, sequence], methods only: Σ_d E·∂f/∂E at the embeddings (saliency:
                   Σ_d |∂f/∂E|); padding positions included, ignore them
  block_relevance  [batch, blocks + 1], methods only: Σ x·∂f/∂x at every block input and at the
                   last block's output (the conservation report)

Options:
${flagHelp(EXPORT_FLAGS, 16)}

Examples:
  xait export --method lrp --out explain.onnx
  xait export --model DIR --method attnlrp --out attnlrp.onnx
  xait export --method forward --out forward.onnx`;

async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(EXPORT_FLAGS, argv);
  if (values.out === undefined) throw usageError("--out FILE is required (the .onnx file to write)");
  checkOutputFile("--out", values.out);
  const id = values.method;
  if (id !== "forward" && !COMPILED_METHODS.includes(id)) {
    getMethod(id); // an unknown method is a usage error of its own
    throw usageError(
      `--method ${id} does not compile to one graph (compiled: ${[...COMPILED_METHODS, "forward"].join(", ")})`,
    );
  }
  const rules = parseRuleList(values.rule);
  if (id === "forward" && (Object.keys(rules).length || values.gamma > 0))
    throw usageError("--rule and --gamma apply to methods, not to the forward pass");
  const model = loadModel(modelDir(values.model));
  const what: GraphKind =
    id === "forward"
      ? { kind: "forward" }
      : id === "saliency"
        ? { kind: "explain", rules: GRADIENT_RULES, reading: "saliency" }
        : {
            kind: "explain",
            rules: rulesFor(getMethod(id).rules!, { gamma: values.gamma, rules }, id !== "gi"),
            reading: "input-times-gradient",
          };
  let graph;
  try {
    graph = compileGraph(model, what, `xait ${id}`);
  } catch (e) {
    if (e instanceof NotCompilable)
      throw new XaitError(`${id} does not compile for this model: ${e.message}`);
    throw e;
  }
  writeFileAtomic(values.out, graph.bytes);
  process.stderr.write(
    `wrote ${values.out} (${(graph.bytes.length / 1e6).toFixed(1)} MB): inputs ${graph.inputs.join(", ")}; outputs ${graph.outputs.join(", ")}\n`,
  );
  return 0;
}

registerCommand({
  name: "export",
  summary: "compile a method to one ONNX graph file (onnxruntime runs it)",
  help: HELP,
  run,
});
