/**
 * Reading the files of a model folder from disk with bounded resources (Node): only regular files
 * (not a link to /dev/zero, a FIFO or a folder), never more than a cap, checked before reading.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from "node:fs";
import { constants as bufferConstants } from "node:buffer";
import { XaitError } from "./errors.js";
import { checkJsonText, MAX_JSON_CHARS, oneLine, stripBom } from "./json-file.js";

/** Largest file read whole into memory (Node's largest Buffer). */
export const MAX_FILE_BYTES = bufferConstants.MAX_LENGTH;

function sizeText(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : `${bytes} bytes`;
}

function fsProblem(e: unknown): string {
  const code = (e as { code?: string } | null)?.code;
  if (code === "ENOENT") return "does not exist";
  if (code === "EACCES" || code === "EPERM") return "cannot be read (permission denied)";
  if (code === "EISDIR") return "is a folder, not a file";
  if (code === "ELOOP") return "is a symbolic link loop";
  return `cannot be read (${oneLine(e instanceof Error ? e.message : String(e))})`;
}

/**
 * The bytes of a regular file of at most `maxBytes` bytes. Refuses (XaitError naming `fileName`)
 * anything else before reading it: a folder, a device such as /dev/zero, a FIFO or socket (even
 * through a symbolic link), or a file over the cap.
 */
export function readRegularFile(path: string, fileName: string, maxBytes = MAX_FILE_BYTES): Uint8Array {
  let fd: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new XaitError(`${fileName} is a folder, not a file`);
    if (!st.isFile()) throw new XaitError(`${fileName} is not a regular file (a device, FIFO or socket?)`);
    // O_NONBLOCK: should the path have become a FIFO since the check, opening it must not wait.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    if (e instanceof XaitError) throw e;
    throw new XaitError(`${fileName} ${fsProblem(e)}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new XaitError(`${fileName} is not a regular file (a device, FIFO or socket?)`);
    const cap = Math.min(maxBytes, MAX_FILE_BYTES);
    if (st.size > cap)
      throw new XaitError(`${fileName} is ${sizeText(st.size)}, more than the ${sizeText(cap)} xait reads`);
    const out = new Uint8Array(st.size);
    let at = 0;
    while (at < st.size) {
      const n = readSync(fd, out, at, st.size - at, at);
      if (n === 0) break;
      at += n;
    }
    if (at < st.size) throw new XaitError(`${fileName} shrank while being read (${at} of ${st.size} bytes)`);
    return out;
  } catch (e) {
    if (e instanceof XaitError) throw e;
    throw new XaitError(`${fileName} ${fsProblem(e)}`);
  } finally {
    closeSync(fd);
  }
}

/** The UTF-8 text of a regular file of at most `maxBytes` bytes, without a byte-order mark. */
export function readTextFile(path: string, fileName: string, maxBytes: number): string {
  const bytes = readRegularFile(path, fileName, maxBytes);
  return stripBom(new TextDecoder("utf-8").decode(bytes));
}

/**
 * The text of a JSON file, ready for JSON.parse: a regular file of at most `maxBytes` bytes, BOM
 * dropped, nesting depth checked (syntax is left to the parser).
 */
export function readJsonFileText(path: string, fileName: string, maxBytes = MAX_JSON_CHARS): string {
  return checkJsonText(readTextFile(path, fileName, maxBytes), fileName, Math.max(maxBytes, MAX_JSON_CHARS));
}
