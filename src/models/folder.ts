/**
 * Model folders in the Hugging Face layout (browser-safe: files come in and go out as bytes/text;
 * folder-node.ts reads and writes real folders). Weights are one `model.safetensors` or the shards
 * that `model.safetensors.index.json` lists.
 */
import { XaitError } from "../errors.js";
import { residentArray, Tensor } from "../tensor/index.js";
import { tokenizerFromJSON, tokenizerFromVocab, type Tokenizer } from "../tokenize/index.js";
import { parameterSpecs } from "./architecture.js";
import { configToJSON, familyOf, parseConfig } from "./registry.js";
import { TransformerModel } from "./model.js";
import {
  readSafetensors,
  writeSafetensors,
  type SafetensorsTensor,
  type SafetensorsWriteDtype,
} from "./safetensors.js";

/** One safetensors file: its name (for messages) and bytes. */
export interface WeightsFile {
  name: string;
  bytes: Uint8Array;
}

export interface ModelFiles {
  config: string;
  /** model.safetensors, or every shard of a sharded checkpoint. */
  weights: Uint8Array | WeightsFile[];
  tokenizerJson?: string;
  vocabTxt?: string;
}

/** The shard file names of a `model.safetensors.index.json` (its `weight_map` values), each once. */
export function shardNames(indexJson: string, fileName = "model.safetensors.index.json"): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(indexJson);
  } catch {
    throw new XaitError(`${fileName}: not valid JSON`);
  }
  const map = (parsed as { weight_map?: unknown } | null)?.weight_map;
  if (!map || typeof map !== "object" || Array.isArray(map))
    throw new XaitError(`${fileName}: no "weight_map" object`);
  const names = new Set<string>();
  for (const [tensor, file] of Object.entries(map as Record<string, unknown>)) {
    if (typeof file !== "string" || !/^[\w.-]+\.safetensors$/.test(file) || file.startsWith("."))
      throw new XaitError(
        `${fileName}: tensor ${tensor} maps to ${JSON.stringify(file)}, not a .safetensors file of the folder`,
      );
    names.add(file);
  }
  if (names.size === 0) throw new XaitError(`${fileName}: "weight_map" is empty`);
  return [...names];
}

function readWeights(weights: ModelFiles["weights"]): Map<string, SafetensorsTensor> {
  // straight into the kernels' memory when the backend keeps weights there (no copy per call)
  const options = { allocate: residentArray };
  if (weights instanceof Uint8Array) return readSafetensors(weights, "model.safetensors", options);
  const all = new Map<string, SafetensorsTensor>();
  for (const file of weights)
    for (const [name, t] of readSafetensors(file.bytes, file.name, options)) {
      if (all.has(name)) throw new XaitError(`${file.name}: tensor ${name} is also in another shard`);
      all.set(name, t);
    }
  return all;
}

/** Build a model from the files of a folder; `warn` receives non-fatal findings (unexpected tensors). */
export function modelFromFiles(files: ModelFiles, warn: (msg: string) => void = () => {}): TransformerModel {
  const config = parseConfig(files.config);
  const family = familyOf(config.modelType);
  const stored = readWeights(files.weights);
  const where = files.weights instanceof Uint8Array ? "model.safetensors" : "model weights";
  const params = new Map<string, Tensor>();
  const used = new Set<string>();
  for (const spec of parameterSpecs(family.architecture(config))) {
    const key = [spec.name, ...(family.storedNames?.(spec.name) ?? [])].find((n) => stored.has(n));
    if (!key) {
      if (spec.unused) continue;
      throw new XaitError(
        `${where}: tensor ${spec.name} is missing (shape [${spec.shape.join(",")}] expected)`,
      );
    }
    used.add(key);
    const t = stored.get(key)!;
    if (t.shape.join(",") !== spec.shape.join(","))
      throw new XaitError(
        `${where}: tensor ${key} has shape [${t.shape.join(",")}], config wants [${spec.shape.join(",")}]`,
      );
    if (!spec.unused) params.set(spec.name, new Tensor(t.data, t.shape));
  }
  const unexpected = [...stored.keys()].filter((k) => !used.has(k) && !family.ignores?.(k));
  if (unexpected.length)
    warn(
      `${where}: ${unexpected.length} unexpected tensor(s) ignored: ${unexpected.slice(0, 5).join(", ")}${unexpected.length > 5 ? ", …" : ""}`,
    );
  let tokenizer: Tokenizer | null = null;
  if (files.tokenizerJson !== undefined) tokenizer = tokenizerFromJSON(files.tokenizerJson);
  else if (files.vocabTxt !== undefined) tokenizer = tokenizerFromVocab(files.vocabTxt);
  if (tokenizer && tokenizer.vocabSize > config.vocabSize)
    throw new XaitError(
      `tokenizer has ${tokenizer.vocabSize} tokens, the model's vocabulary only ${config.vocabSize}`,
    );
  return new TransformerModel(config, params, tokenizer);
}

export interface SavedFiles {
  "config.json": string;
  "model.safetensors": Uint8Array;
  "tokenizer.json"?: string;
}

/** The files of a model folder, with Hugging Face names. */
export function modelToFiles(model: TransformerModel, dtype: SafetensorsWriteDtype = "F32"): SavedFiles {
  const tensors = parameterSpecs(model.architecture).map((spec) => {
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
