/**
 * Reading a model folder in the page: from the page's own server (`models/NAME/…`) or from files the
 * user picked or dropped. The files become the `ModelFiles` of `modelFromFiles`; a missing file is
 * reported in the words of the command line (`model folder NAME has no config.json`).
 */
import { XaitError } from "../errors.js";
import { shardNames, type ModelFiles, type WeightsFile } from "../models/folder.js";

export interface FolderSource {
  /** The folder as the user knows it (`models/sst2-bert`, or the picked folder's name). */
  name: string;
  /** A file's text, undefined when the folder has no such file. */
  text(file: string): Promise<string | undefined>;
  /** A file's bytes, undefined when the folder has no such file; `progress` gets the share read. */
  bytes(file: string, progress?: (fraction: number) => void): Promise<Uint8Array | undefined>;
}

/** config.json, model.safetensors and tokenizer.json (or vocab.txt), checked in the order of `loadModel` in Node. */
export async function readModelFolder(
  source: FolderSource,
  progress?: (fraction: number) => void,
): Promise<ModelFiles> {
  const { name } = source;
  const config = await source.text("config.json");
  if (config === undefined) throw new XaitError(`model folder ${name} has no config.json`);
  let weights: Uint8Array | WeightsFile[] | undefined = await source.bytes("model.safetensors", progress);
  if (weights === undefined) {
    const index = await source.text("model.safetensors.index.json");
    if (index === undefined)
      throw new XaitError(`model folder ${name} has no model.safetensors (nor model.safetensors.index.json)`);
    const shards: WeightsFile[] = [];
    for (const file of shardNames(index)) {
      const bytes = await source.bytes(file);
      if (bytes === undefined)
        throw new XaitError(`model.safetensors.index.json names ${file}, which is missing`);
      shards.push({ name: file, bytes });
    }
    weights = shards;
  }
  const tokenizerJson = await source.text("tokenizer.json");
  const vocabTxt = tokenizerJson === undefined ? await source.text("vocab.txt") : undefined;
  if (tokenizerJson === undefined && vocabTxt === undefined)
    throw new XaitError(`model folder ${name} has neither tokenizer.json nor vocab.txt`);
  return { config, weights, tokenizerJson, vocabTxt };
}

/** A folder served over HTTP at `base` (a URL ending in "/"); a 404 means the file is absent. */
export function urlFolder(name: string, base: URL): FolderSource {
  const get = async (file: string): Promise<Response | undefined> => {
    const url = new URL(file, base);
    const response = await fetch(url);
    if (response.status === 404) return undefined;
    if (!response.ok)
      throw new XaitError(`${name}/${file}: the server answered ${response.status} ${response.statusText}`);
    return response;
  };
  return {
    name,
    async text(file) {
      return (await get(file))?.text();
    },
    async bytes(file, progress) {
      const response = await get(file);
      if (!response) return undefined;
      const total = Number(response.headers.get("content-length") ?? NaN);
      if (!response.body || !(total > 0)) return new Uint8Array(await response.arrayBuffer());
      const out = new Uint8Array(total);
      const reader = response.body.getReader();
      let at = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (at + value.length > total)
          throw new XaitError(`${name}/${file}: longer than its Content-Length (${total} bytes)`);
        out.set(value, at);
        at += value.length;
        progress?.(at / total);
      }
      return at === total ? out : out.subarray(0, at);
    },
  };
}

/** Files the user picked (a folder) or dropped: only their base names count. */
export function fileFolder(name: string, files: readonly File[]): FolderSource {
  const byName = new Map<string, File>();
  for (const f of files) if (!byName.has(f.name)) byName.set(f.name, f);
  return {
    name,
    async text(file) {
      return byName.get(file)?.text();
    },
    async bytes(file, progress) {
      const f = byName.get(file);
      if (!f) return undefined;
      const bytes = new Uint8Array(await f.arrayBuffer());
      progress?.(1);
      return bytes;
    },
  };
}
