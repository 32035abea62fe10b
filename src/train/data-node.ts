/** Reading dataset files from disk in Node; the parsing itself is browser-safe in `data.ts`. */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { XaitError } from "../errors.js";
import { parseDataset, type Dataset, type ParseOptions } from "./data.js";

/** Reads and parses a .tsv, .csv or .jsonl dataset; errors name the path and line. */
export function readDatasetFile(path: string, options: Omit<ParseOptions, "fileName"> = {}): Dataset {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a folder" : (e as Error).message;
    throw new XaitError(`cannot read dataset ${path}: ${why}`);
  }
  return parseDataset(text, { ...options, fileName: path });
}

/**
 * The shared data folder: `$XAIT_DATA` if set, else `../shared/data` relative to the working
 * directory (the repository root).
 */
export function dataFolder(env: Record<string, string | undefined> = process.env): string {
  return resolve(env.XAIT_DATA || "../shared/data");
}

/** Raw documents of a file, for a language model, and the malformed rows skipped. */
export interface TextDocuments {
  documents: string[];
  skipped: number;
}

/**
 * The documents of a training-text file: a `.txt` file is one document (the whole file); a .tsv,
 * .csv or .jsonl file gives one document per row, its text column (labels are not read). Documents
 * that are empty or only whitespace are left out.
 */
export function readTextDocuments(
  path: string,
  options: Pick<ParseOptions, "textColumn" | "skipBadRows"> = {},
): TextDocuments {
  if (path.toLowerCase().endsWith(".txt")) {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why =
        code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a folder" : (e as Error).message;
      throw new XaitError(`cannot read text ${path}: ${why}`);
    }
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return { documents: text.trim() === "" ? [] : [text], skipped: 0 };
  }
  const data = readDatasetFile(path, { ...options, textOnly: true });
  return { documents: data.examples.map((e) => e.text), skipped: data.skipped };
}
