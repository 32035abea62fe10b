/** Small Node helpers of the CLI: stdin, atomic file writes, the default model, numeric flags. */
import { existsSync, readFileSync, renameSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { usageError } from "../errors.js";

/** The bundled default model: the more accurate of the bundled SST-2 models (docs/MODELS.md). */
export const DEFAULT_MODEL = resolve(dirname(fileURLToPath(import.meta.url)), "../../../models/sst2-bert");

/** Text lines from stdin (empty lines dropped); [] when stdin is a terminal. */
export function readStdinLines(): string[] {
  if (process.stdin.isTTY) return [];
  const text = readFileSync(0, "utf8");
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
}

/** Write a file atomically (temporary file + rename), creating its folder. */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  const target = resolve(path);
  mkdirSync(dirname(target), { recursive: true });
  const tmp = `${target}.tmp-${process.pid}`;
  writeFileSync(tmp, content);
  renameSync(tmp, target);
}

export function numberFlag(
  name: string,
  value: string | undefined,
  opts: { integer?: boolean; min?: number; above?: number; max?: number } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (value.trim() === "" || !Number.isFinite(v) || (opts.integer && !Number.isInteger(v)))
    throw usageError(`--${name} must be ${opts.integer ? "an integer" : "a number"}, got '${value}'`);
  if (opts.min !== undefined && v < opts.min)
    throw usageError(`--${name} must be at least ${opts.min}, got ${v}`);
  if (opts.above !== undefined && v <= opts.above)
    throw usageError(`--${name} must be greater than ${opts.above}, got ${v}`);
  if (opts.max !== undefined && v > opts.max)
    throw usageError(`--${name} must be at most ${opts.max}, got ${v}`);
  return v;
}

export function modelDir(flag: string | undefined): string {
  const dir = flag ?? DEFAULT_MODEL;
  if (!flag && !existsSync(dir)) throw usageError(`the bundled model ${dir} is missing; pass --model DIR`);
  return dir;
}
