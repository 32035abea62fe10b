/** Reading and writing model folders on disk (Node). Writes are atomic: a temporary folder renamed into place. */
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { XaitError } from "../errors.js";
import { readJsonFileText, readRegularFile, readTextFile } from "../json-file-node.js";
import type { SafetensorsWriteDtype } from "./safetensors.js";
import { modelFromFiles, modelToFiles, shardNames } from "./folder.js";
import type { TransformerModel } from "./model.js";

/** Caps on the files of a model folder: config.json is small, tokenizer.json and vocab.txt at most tens of MB. */
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;
const MAX_TOKENIZER_BYTES = 128 * 1024 * 1024;

/** The text of a folder's file when it exists (BOM dropped; JSON files depth-checked); only regular files, capped. */
function readText(dir: string, name: string, maxBytes: number): string | undefined {
  const p = join(dir, name);
  if (!existsSync(p)) return undefined;
  return name.endsWith(".json") ? readJsonFileText(p, p, maxBytes) : readTextFile(p, p, maxBytes);
}

/** Load a model folder: config.json, model.safetensors, tokenizer.json (or vocab.txt). */
export function loadModel(
  dir: string,
  warn: (msg: string) => void = (m) => process.stderr.write(`warning: ${m}\n`),
): TransformerModel {
  if (!existsSync(dir)) throw new XaitError(`model folder ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) throw new XaitError(`model path ${dir} is not a folder`);
  const config = readText(dir, "config.json", MAX_CONFIG_BYTES);
  if (config === undefined) throw new XaitError(`model folder ${dir} has no config.json`);
  const weightsPath = join(dir, "model.safetensors");
  const indexText = existsSync(weightsPath)
    ? undefined
    : readText(dir, "model.safetensors.index.json", MAX_CONFIG_BYTES);
  if (!existsSync(weightsPath) && indexText === undefined)
    throw new XaitError(`model folder ${dir} has no model.safetensors (nor model.safetensors.index.json)`);
  const tokenizerJson = readText(dir, "tokenizer.json", MAX_TOKENIZER_BYTES);
  const vocabTxt = tokenizerJson === undefined ? readText(dir, "vocab.txt", MAX_TOKENIZER_BYTES) : undefined;
  if (tokenizerJson === undefined && vocabTxt === undefined)
    throw new XaitError(`model folder ${dir} has neither tokenizer.json nor vocab.txt`);
  try {
    const weights =
      indexText === undefined
        ? readRegularFile(weightsPath, weightsPath)
        : shardNames(indexText).map((name) => {
            const path = join(dir, name);
            if (!existsSync(path))
              throw new XaitError(`model.safetensors.index.json names ${name}, which is missing`);
            return { name, bytes: readRegularFile(path, path) };
          });
    return modelFromFiles({ config, weights, tokenizerJson, vocabTxt }, warn);
  } catch (e) {
    if (e instanceof XaitError) throw new XaitError(`${dir}: ${e.message}`, e.exitCode);
    throw e;
  }
}

/**
 * Write a model folder atomically: files go to a sibling temporary folder which then replaces `dir`
 * (an interrupted save leaves the previous folder intact). `extra` adds files such as training.json.
 */
export function saveModel(
  model: TransformerModel,
  dir: string,
  opts: { dtype?: SafetensorsWriteDtype; extra?: Record<string, string> } = {},
): void {
  const files: Record<string, string | Uint8Array> = {
    ...modelToFiles(model, opts.dtype ?? "F32"),
    ...(opts.extra ?? {}),
  };
  const target = resolve(dir);
  mkdirSync(dirname(target), { recursive: true });
  const tmp = `${target}.tmp-${process.pid}`;
  const old = `${target}.old-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(tmp, name), content);
  if (existsSync(target)) renameSync(target, old);
  renameSync(tmp, target);
  rmSync(old, { recursive: true, force: true });
}
