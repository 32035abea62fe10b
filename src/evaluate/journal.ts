/**
 * The journal of an evaluation: a JSON-lines text whose first line is the header (what was
 * evaluated: the identity, the shard, and what the report shows) and every further line one
 * finished sample's result. A run appends a sample's line as soon as the sample is done, so a run
 * that is stopped or killed keeps its finished work; a resumed run, or a merge of shards, builds
 * its report from these lines alone. Numbers round-trip exactly (JSON keeps every double; NaN and
 * ±Infinity are written as the strings "NaN", "Infinity", "-Infinity"). Browser-safe: file access
 * lives in journal-node.ts.
 */
import { XaitError } from "../errors.js";

/** The journal format's version, the first key of every header. */
export const JOURNAL_FORMAT = 1;

/**
 * What makes two runs the same evaluation: the evaluation, the xait version, content hashes of the
 * model folder and of the data file, the methods, the options that change results, the seed, and the
 * number of samples. Runs with equal identities compute equal results for every sample.
 */
export interface JournalIdentity {
  evaluation: string;
  xait: string;
  model: string;
  data: string;
  methods: string[];
  options: Record<string, string | number | boolean | null>;
  seed: number;
  samples: number;
}

/** K of N (1 ≤ K ≤ N): the K-th of N disjoint slices of the samples. */
export interface Shard {
  k: number;
  n: number;
}

export interface JournalHeader {
  journal: number;
  identity: JournalIdentity;
  /** null: all samples. */
  shard: Shard | null;
  /** What the report names and shows beside the results (model folder, data file, descriptions). */
  context: Record<string, unknown>;
}

/** One finished sample: its index among all samples, its wall time and its result. */
export interface JournalRecord<R = unknown> {
  i: number;
  wall_ms: number;
  result: R;
}

export interface ParsedJournal<R = unknown> {
  header: JournalHeader;
  /** Records in file order. */
  records: JournalRecord<R>[];
  /** Length in characters of the complete lines (a torn last line starts here). */
  completeLength: number;
  /** A torn last line (a write cut short by a kill) was found and dropped. */
  torn: boolean;
}

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity };

/** One journal line (with its newline): non-finite numbers as strings. */
export function journalLine(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v: unknown) =>
      typeof v === "number" && !Number.isFinite(v) ? String(v) : v,
    ) + "\n"
  );
}

/** Reads a journal line written by `journalLine`. */
export function parseJournalLine(line: string): unknown {
  return JSON.parse(line, (_key, v: unknown) =>
    typeof v === "string" && v in NON_FINITE ? NON_FINITE[v] : v,
  );
}

/** A value as a journal line stores it: what a resumed run reads back is what a fresh run used. */
export function roundTrip<T>(value: T): T {
  return parseJournalLine(journalLine(value)) as T;
}

function isHeader(v: unknown): v is JournalHeader {
  const h = v as JournalHeader | null;
  return (
    typeof h === "object" && h !== null && h.journal === JOURNAL_FORMAT && typeof h.identity === "object"
  );
}

/**
 * Parses a journal's text. A last line without its newline is a write cut short: it is dropped
 * (`torn`). Any other line that is not a record is an error naming the file and the line.
 */
export function parseJournal<R = unknown>(text: string, file: string): ParsedJournal<R> {
  const end = text.lastIndexOf("\n") + 1;
  const torn = end < text.length;
  const lines = text.slice(0, end).split("\n");
  lines.pop();
  if (lines.length === 0) throw new XaitError(`${file}: empty journal (no header line)`);
  const read = (line: string, n: number): unknown => {
    try {
      return parseJournalLine(line);
    } catch {
      throw new XaitError(`${file}: line ${n} is corrupt (not JSON); the journal cannot be read`);
    }
  };
  const header = read(lines[0]!, 1);
  if (!isHeader(header))
    throw new XaitError(
      `${file}: line 1 is not the header of an xait evaluation journal (format ${JOURNAL_FORMAT})`,
    );
  const records = lines.slice(1).map((line, k) => {
    const r = read(line, k + 2) as JournalRecord<R>;
    if (typeof r !== "object" || r === null || !Number.isInteger(r.i) || !("result" in r))
      throw new XaitError(`${file}: line ${k + 2} is not a sample record`);
    if (r.i < 0 || r.i >= header.identity.samples)
      throw new XaitError(
        `${file}: line ${k + 2}: sample ${r.i} is outside 0–${header.identity.samples - 1}`,
      );
    return r;
  });
  return { header, records, completeLength: end, torn };
}

/** The keys in which two identities differ ([] when equal). */
export function identityDifferences(a: JournalIdentity, b: JournalIdentity): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])] as (keyof JournalIdentity)[];
  const out: string[] = [];
  for (const key of keys) {
    if (key === "options") {
      const o = [...new Set([...Object.keys(a.options ?? {}), ...Object.keys(b.options ?? {})])];
      for (const name of o)
        if (JSON.stringify(a.options?.[name]) !== JSON.stringify(b.options?.[name])) out.push(name);
    } else if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) {
      out.push(key === "model" || key === "data" ? `${key} content` : key);
    }
  }
  return out;
}

/** Records sorted by sample index; a sample journaled twice is an error naming `source`. */
export function sortedRecords<R>(records: readonly JournalRecord<R>[], source: string): JournalRecord<R>[] {
  const sorted = records.slice().sort((a, b) => a.i - b.i);
  for (let k = 1; k < sorted.length; k++)
    if (sorted[k]!.i === sorted[k - 1]!.i)
      throw new XaitError(`${source}: sample ${sorted[k]!.i} is journaled twice`);
  return sorted;
}
