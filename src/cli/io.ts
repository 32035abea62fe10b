/** Small Node helpers of the CLI: stdin, atomic file writes, the default model, numeric flags. */
import { existsSync, renameSync, rmSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { XaitError, usageError } from "../errors.js";

/** The bundled default model: the more accurate of the bundled SST-2 models (docs/MODELS.md). */
export const DEFAULT_MODEL = resolve(dirname(fileURLToPath(import.meta.url)), "../../../models/sst2-bert");

/** Most bytes read from stdin: far more text than any explanation run needs, far less than memory. */
export const MAX_STDIN_BYTES = 256 * 1024 * 1024;

/**
 * Text lines from stdin (empty lines dropped); [] when stdin is a terminal. Reads the stream to its
 * end whatever its pace — a pipe whose producer is slow, a file, a socket — instead of one
 * synchronous read (which fails with EAGAIN on a non-blocking pipe that has no data yet).
 */
export async function readStdinLines(
  stdin: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin,
  maxBytes = MAX_STDIN_BYTES,
): Promise<string[]> {
  if (stdin.isTTY) return [];
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stdin) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    total += bytes.length;
    if (total > maxBytes) {
      // Stop reading; the producer gets EPIPE, not an endless wait.
      (stdin as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      throw new XaitError(`stdin holds more than ${maxBytes} bytes; give fewer texts per run`);
    }
    chunks.push(bytes);
  }
  return new TextDecoder("utf-8")
    .decode(Buffer.concat(chunks))
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
}

/**
 * Refuse (usage error naming the flag) an output path that cannot be a file: an existing folder, or
 * a path ending in a separator. Checked before any work is done.
 */
export function checkOutputFile(flag: string, path: string): void {
  if (path === "" || /[\\/]$/.test(path)) throw usageError(`${flag} ${path}: expected a file name`);
  let isFolder = false;
  try {
    isFolder = statSync(path).isDirectory();
  } catch {
    // does not exist yet: fine
  }
  if (isFolder)
    throw usageError(
      `${flag} ${path} is a folder; give a file name such as ${path.replace(/[\\/]+$/, "")}/report.html`,
    );
}

/**
 * Write a file atomically (temporary file + rename), creating its folder. On failure the temporary
 * file is removed and the error is one line naming the path.
 */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  const target = resolve(path);
  const tmp = `${target}.tmp-${process.pid}`;
  try {
    if (existsSync(target) && statSync(target).isDirectory())
      throw new XaitError(`cannot write ${path}: it is a folder`);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(tmp, content);
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    if (e instanceof XaitError) throw e;
    const code = (e as { code?: string } | null)?.code;
    const reason =
      code === "EACCES" || code === "EPERM"
        ? "permission denied"
        : code === "ENOSPC"
          ? "no space left on the device"
          : code === "ENOTDIR" || code === "EEXIST"
            ? "a part of the path is a file, not a folder"
            : code === "EISDIR"
              ? "it is a folder"
              : (code ?? String(e));
    throw new XaitError(`cannot write ${path}: ${reason}`);
  }
}

export function modelDir(flag: string | undefined): string {
  const dir = flag ?? DEFAULT_MODEL;
  if (!flag && !existsSync(dir)) throw usageError(`the bundled model ${dir} is missing; pass --model DIR`);
  return dir;
}
