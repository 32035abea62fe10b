/**
 * The journal on disk (Node): content hashes for the identity, reading a journal file, and an
 * appender that writes each line whole with one write call and flushes it to disk (fsync), so a
 * kill leaves at most one torn last line, which the next reader drops.
 */
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { XaitError } from "../errors.js";
import {
  journalLine,
  parseJournal,
  type JournalHeader,
  type JournalRecord,
  type ParsedJournal,
} from "./journal.js";

function readOrFail(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new XaitError(`cannot read ${file}: ${code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
}

/** SHA-256 of a file's bytes, hex. */
export function hashFile(file: string): string {
  return createHash("sha256").update(readOrFail(file)).digest("hex");
}

/** SHA-256 over a folder's files (names sorted; each name, size and bytes), hex: the same content gives the same hash anywhere. */
export function hashFolder(dir: string): string {
  const h = createHash("sha256");
  const files = readdirSync(dir)
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort();
  for (const f of files) {
    const bytes = readOrFail(join(dir, f));
    h.update(`${f}\0${bytes.length}\0`).update(bytes);
  }
  return h.digest("hex");
}

/** Reads and parses a journal file; a torn last line is reported through `warn` and dropped. */
export function readJournal<R>(file: string, warn: (message: string) => void): ParsedJournal<R> {
  const parsed = parseJournal<R>(readOrFail(file).toString("utf8"), file);
  if (parsed.torn)
    warn(`${file}: the last line was cut short (the run was killed while writing it); dropped`);
  return parsed;
}

/** Appends whole lines to a journal; each call is one write followed by fsync. */
export class JournalWriter {
  private constructor(
    readonly file: string,
    private fd: number,
  ) {}

  /** A new journal holding `header` (the file must not exist). */
  static create(file: string, header: JournalHeader): JournalWriter {
    mkdirSync(dirname(file), { recursive: true });
    const fd = openSync(file, "wx");
    const w = new JournalWriter(file, fd);
    w.write(journalLine(header));
    return w;
  }

  /** Continues an existing journal; a torn last line (after `completeLength` bytes) is cut off first. */
  static resume(file: string, parsed: ParsedJournal): JournalWriter {
    const bytes = Buffer.byteLength(readFileSync(file, "utf8").slice(0, parsed.completeLength));
    if (parsed.torn) truncateSync(file, bytes);
    return new JournalWriter(file, openSync(file, "a"));
  }

  /** Appends records (each one whole line) in one write and flushes them to disk. */
  append(records: readonly JournalRecord[]): void {
    if (records.length) this.write(records.map(journalLine).join(""));
  }

  private write(text: string): void {
    const bytes = Buffer.from(text, "utf8");
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done);
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** The journal files (`*.journal.jsonl`) of a folder, by name. */
export function journalFiles(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new XaitError(`${dir}: no such folder`);
  return readdirSync(dir)
    .filter((f) => f.endsWith(JOURNAL_SUFFIX))
    .sort();
}

export const JOURNAL_SUFFIX = ".journal.jsonl";
