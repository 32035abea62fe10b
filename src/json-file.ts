/**
 * Reading the JSON files of a model folder (config.json, tokenizer.json, training.json) safely, in
 * Node and in browsers alike: a UTF-8 byte-order mark is dropped (many editors write one), the text
 * has a size cap and a nesting-depth cap checked before JSON.parse (a file nested 100,000 deep would
 * overflow the stack of every recursive walk after it), and every refusal is one line naming the file.
 */
import { XaitError } from "./errors.js";

/** Longest JSON text read, in UTF-16 code units (about bytes for ASCII JSON). Large tokenizer.json files are ~35 MB. */
export const MAX_JSON_CHARS = 128 * 1024 * 1024;

/** Deepest nesting of arrays and objects accepted; real model files nest fewer than 10 levels. */
export const MAX_JSON_DEPTH = 256;

/** The text without a leading UTF-8 byte-order mark (U+FEFF). */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** A message fit for one line: control characters and line breaks become spaces, long ones are cut. */
export function oneLine(message: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  const flat = message.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ").trim();
  return flat.length > max ? flat.slice(0, max - 1) + "…" : flat;
}

/**
 * The deepest nesting of `[` and `{` outside strings in a JSON text; stops counting (and returns a
 * value above `limit`) as soon as `limit` is passed. Works on any text, valid JSON or not.
 */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth = Math.max(0, depth - 1);
  }
  return deepest;
}

/**
 * Parse the text of a JSON file: BOM dropped, size and nesting checked first. Throws an XaitError
 * `<fileName>: …` (one line) for text that is too long, too deep or not JSON.
 */
export function parseJsonText(text: string, fileName: string, maxChars = MAX_JSON_CHARS): unknown {
  const body = checkJsonText(text, fileName, maxChars);
  try {
    return JSON.parse(body);
  } catch (e) {
    throw new XaitError(
      `${fileName}: not valid JSON (${oneLine(e instanceof Error ? e.message : String(e))})`,
    );
  }
}

/**
 * The text of a JSON file ready for JSON.parse: BOM dropped, size and nesting depth checked (an
 * XaitError `<fileName>: …` otherwise). Syntax is not checked here.
 */
export function checkJsonText(text: string, fileName: string, maxChars = MAX_JSON_CHARS): string {
  if (text.length > maxChars)
    throw new XaitError(`${fileName}: ${text.length} characters, more than the ${maxChars} xait reads`);
  const body = stripBom(text);
  if (jsonDepth(body) > MAX_JSON_DEPTH)
    throw new XaitError(`${fileName}: arrays and objects nested more than ${MAX_JSON_DEPTH} levels deep`);
  return body;
}
