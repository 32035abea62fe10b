/**
 * Model folders in the Hugging Face layout (browser-safe: files come in and go out as bytes/text;
 * folder-node.ts reads and writes real folders).
 */
import { XaitError } from "../errors.js";
import { Tensor } from "../tensor/index.js";
import { tokenizerFromJSON, tokenizerFromVocab, type Tokenizer } from "../tokenize/index.js";
import { configToJSON, parseConfig } from "./config.js";
import { layoutOf, legacyName, parameterSpecs } from "./layout.js";
import { SequenceClassifier } from "./model.js";
import { readSafetensors, writeSafetensors, type SafetensorsWriteDtype } from "./safetensors.js";

export interface ModelFiles {
  config: string;
  weights: Uint8Array;
  tokenizerJson?: string;
  vocabTxt?: string;
}

/** Build a model from the files of a folder; `warn` receives non-fatal findings (unexpected tensors). */
export function modelFromFiles(
  files: ModelFiles,
  warn: (msg: string) => void = () => {},
): SequenceClassifier {
  const config = parseConfig(files.config);
  const stored = readSafetensors(files.weights, "model.safetensors");
  const params = new Map<string, Tensor>();
  const used = new Set<string>();
  for (const spec of parameterSpecs(config, layoutOf(config))) {
    const alt = legacyName(spec.name);
    const key = stored.has(spec.name) ? spec.name : alt && stored.has(alt) ? alt : null;
    if (!key) {
      if (spec.unused) continue;
      throw new XaitError(
        `model.safetensors: tensor ${spec.name} is missing (shape [${spec.shape.join(",")}] expected)`,
      );
    }
    used.add(key);
    const t = stored.get(key)!;
    if (t.shape.join(",") !== spec.shape.join(","))
      throw new XaitError(
        `model.safetensors: tensor ${key} has shape [${t.shape.join(",")}], config wants [${spec.shape.join(",")}]`,
      );
    if (!spec.unused) params.set(spec.name, new Tensor(t.data, t.shape));
  }
  const unexpected = [...stored.keys()].filter((k) => !used.has(k) && !k.endsWith("position_ids"));
  if (unexpected.length)
    warn(
      `model.safetensors: ${unexpected.length} unexpected tensor(s) ignored: ${unexpected.slice(0, 5).join(", ")}${unexpected.length > 5 ? ", …" : ""}`,
    );
  let tokenizer: Tokenizer | null = null;
  if (files.tokenizerJson !== undefined) tokenizer = tokenizerFromJSON(files.tokenizerJson);
  else if (files.vocabTxt !== undefined) tokenizer = tokenizerFromVocab(files.vocabTxt);
  if (tokenizer && tokenizer.vocabSize > config.vocabSize)
    throw new XaitError(
      `tokenizer has ${tokenizer.vocabSize} tokens, the model's vocabulary only ${config.vocabSize}`,
    );
  return new SequenceClassifier(config, params, tokenizer);
}

export interface SavedFiles {
  "config.json": string;
  "model.safetensors": Uint8Array;
  "tokenizer.json"?: string;
}

/** The files of a model folder, with Hugging Face names. */
export function modelToFiles(model: SequenceClassifier, dtype: SafetensorsWriteDtype = "F32"): SavedFiles {
  const tensors = parameterSpecs(model.config, model.layout).map((spec) => {
    const t = model.params.get(spec.name);
    const data = t ? Float32Array.from(t.data) : unusedFill(spec.shape, spec.init);
    return { name: spec.name, shape: spec.shape, data };
  });
  const files: SavedFiles = {
    "config.json": JSON.stringify(configToJSON(model.config), null, 2) + "\n",
    "model.safetensors": writeSafetensors(tensors, dtype, { format: "pt" }),
  };
  if (model.tokenizer) files["tokenizer.json"] = model.tokenizer.toJSON();
  return files;
}

function unusedFill(shape: number[], init: "normal" | "zeros" | "ones"): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Float32Array(n).fill(init === "ones" ? 1 : 0);
}
