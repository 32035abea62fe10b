/**
 * Labelled text datasets read from text: TSV with a header row (GLUE), CSV per RFC 4180 (Kaggle) and
 * JSON lines (IMDB). Browser-safe: text in, examples out; `data-node.ts` adds reading a file.
 *
 * Labels stay strings here; `mapLabels` turns them into class ids and the id2label / label2id of a
 * model config. `splitDataset` makes a reproducible held-out split from a seed.
 */
import { XaitError } from "../errors.js";
import { Random } from "../tensor/random.js";

export type DatasetFormat = "tsv" | "csv" | "jsonl";

/** One labelled example; `pair` is the second text of a text-pair task. */
export interface Example {
  text: string;
  pair?: string;
  label: string;
}

export interface ParseOptions {
  /** Default: from the extension of `fileName` (.tsv, .csv, .jsonl, .json). */
  format?: DatasetFormat;
  /** Named in error messages and used to pick the format. */
  fileName?: string;
  /** Default: the first of `sentence`, `text`, `review`, `sentence1` present. */
  textColumn?: string;
  /** Default: `sentence2` when the text column is `sentence1`, else none. */
  pairColumn?: string;
  /** Default: the first of `label`, `sentiment` present. */
  labelColumn?: string;
  /** Skip and count malformed rows instead of failing on the first one. */
  skipBadRows?: boolean;
  /** Read only the text column (raw text for a language model): no label column; labels are "". */
  textOnly?: boolean;
}

export interface Dataset {
  examples: Example[];
  /** Number of malformed rows skipped (only with `skipBadRows`). */
  skipped: number;
  /** 1-based physical line numbers where the skipped rows start. */
  skippedLines: number[];
  /** The column names: the header row (TSV, CSV) or the keys of the first record (JSON lines). */
  columns: string[];
  textColumn: string;
  pairColumn?: string;
  labelColumn: string;
}

const TEXT_COLUMNS = ["sentence", "text", "review", "sentence1"];
const LABEL_COLUMNS = ["label", "sentiment"];

/** The format implied by a file name's extension. */
export function formatFromFileName(fileName: string): DatasetFormat {
  const lower = fileName.toLowerCase();
  if (lower.endsWith(".tsv")) return "tsv";
  if (lower.endsWith(".csv")) return "csv";
  if (lower.endsWith(".jsonl") || lower.endsWith(".json") || lower.endsWith(".ndjson")) return "jsonl";
  throw new XaitError(
    `${fileName}: unknown dataset format; use a .tsv, .csv or .jsonl file or give the format`,
  );
}

/** A row as read from the file: field values by column, or the reason it is malformed. */
interface RawRow {
  line: number;
  /** Names the record inside the line when a line holds several (a JSON array). */
  where?: string;
  fields?: Record<string, unknown>;
  error?: string;
}

/** Parses a whole dataset file's text. Malformed rows throw an XaitError naming file and line. */
export function parseDataset(text: string, options: ParseOptions = {}): Dataset {
  const fileName = options.fileName ?? "dataset";
  const format = options.format ?? formatFromFileName(fileName);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const { columns, rows } = format === "jsonl" ? readJsonLines(text) : readTable(text, format, fileName);
  const textColumn = pickColumn(columns, options.textColumn, TEXT_COLUMNS, "text", fileName);
  const labelColumn = options.textOnly
    ? ""
    : pickColumn(columns, options.labelColumn, LABEL_COLUMNS, "label", fileName);
  const pairColumn =
    options.pairColumn !== undefined
      ? pickColumn(columns, options.pairColumn, [], "pair", fileName)
      : textColumn === "sentence1" && columns.includes("sentence2")
        ? "sentence2"
        : undefined;

  const examples: Example[] = [];
  const skippedLines: number[] = [];
  for (const row of rows) {
    let example: Example | undefined;
    let reason = row.error;
    if (reason === undefined) {
      const fields = row.fields!;
      const t = textValue(fields[textColumn]);
      const label = options.textOnly ? "" : labelValue(fields[labelColumn]);
      const pair = pairColumn === undefined ? undefined : textValue(fields[pairColumn]);
      if (t === undefined) reason = `missing or empty "${textColumn}"`;
      else if (label === undefined) reason = `missing or empty "${labelColumn}"`;
      else if (pairColumn !== undefined && pair === undefined) reason = `missing or empty "${pairColumn}"`;
      else example = pair === undefined ? { text: t, label } : { text: t, pair, label };
    }
    if (example) {
      examples.push(example);
    } else if (options.skipBadRows) {
      skippedLines.push(row.line);
    } else {
      const where = row.where === undefined ? "" : `${row.where}: `;
      throw new XaitError(
        `${fileName}:${row.line}: ${where}${reason}; fix the row or skip bad rows (--skip-bad-rows)`,
      );
    }
  }
  return {
    examples,
    skipped: skippedLines.length,
    skippedLines,
    columns,
    textColumn,
    ...(pairColumn === undefined ? {} : { pairColumn }),
    labelColumn,
  };
}

function pickColumn(
  columns: string[],
  wanted: string | undefined,
  candidates: string[],
  role: string,
  fileName: string,
): string {
  const names = wanted === undefined ? candidates : [wanted];
  for (const name of names) if (columns.includes(name)) return name;
  for (const name of names) {
    const found = columns.find((c) => c.toLowerCase() === name.toLowerCase());
    if (found !== undefined) return found;
  }
  const expected = wanted === undefined ? `one of ${candidates.join(", ")}` : `"${wanted}"`;
  throw new XaitError(
    `${fileName}: no ${role} column (expected ${expected}; found ${columns.join(", ") || "none"}); name it with the ${role} column option`,
  );
}

function textValue(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

function labelValue(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (typeof value === "boolean") return value ? "1" : "0";
  if (typeof value === "string" && value.trim() !== "") return value.trim();
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// TSV and CSV

/** TSV (no quoting, as GLUE) or CSV: the first record is the header; blank lines are ignored. */
function readTable(
  text: string,
  format: "tsv" | "csv",
  fileName: string,
): { columns: string[]; rows: RawRow[] } {
  const records = format === "tsv" ? tsvRecords(text) : csvRecords(text);
  const header = records[0];
  if (!header) return { columns: [], rows: [] };
  if (header.fields === undefined) {
    throw new XaitError(`${fileName}:${header.line}: bad header row (${header.error}); fix the file`);
  }
  const columns = header.fields.map((c) => c.trim());
  const rows: RawRow[] = [];
  for (const record of records) {
    if (record === header) continue;
    if (record.fields === undefined) {
      rows.push({ line: record.line, error: record.error });
    } else if (record.fields.length !== columns.length) {
      rows.push({
        line: record.line,
        error: `expected ${columns.length} fields, found ${record.fields.length}`,
      });
    } else {
      const fields: Record<string, unknown> = {};
      columns.forEach((c, i) => (fields[c] = record.fields![i]));
      rows.push({ line: record.line, fields });
    }
  }
  return { columns, rows };
}

/** A record of a delimited file: its fields, or why it could not be read; `line` is 1-based. */
export interface TableRecord {
  line: number;
  fields?: string[];
  error?: string;
}

function isBlank(line: string): boolean {
  return line.trim() === "";
}

/** Tab-separated values without quoting: one record per line (LF or CRLF). */
export function tsvRecords(text: string): TableRecord[] {
  const lines = text.split("\n");
  const records: TableRecord[] = [];
  lines.forEach((raw, i) => {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (!isBlank(line)) records.push({ line: i + 1, fields: line.split("\t") });
  });
  return records;
}

/**
 * CSV per RFC 4180: fields separated by commas, records by LF or CRLF; a field may be quoted with
 * `"`, and then holds commas, line breaks and doubled quotes (`""` = one `"`). A quote inside an
 * unquoted field is kept as a character (common in the wild). Malformed: text after a closing quote
 * other than a comma or line end, or a quote never closed — parsing resumes on the next line.
 * Blank lines are skipped.
 */
export function csvRecords(text: string): TableRecord[] {
  const records: TableRecord[] = [];
  const n = text.length;
  let pos = 0;
  let line = 1;
  while (pos < n) {
    const start = pos;
    const startLine = line;
    const fields: string[] = [];
    let field = "";
    let error: string | undefined;
    let resume = 0;
    let atFieldStart = true;
    for (;;) {
      if (pos >= n) {
        fields.push(field);
        break;
      }
      const c = text[pos];
      if (atFieldStart && c === '"') {
        const fieldStart = pos;
        const end = quotedFieldEnd(text, pos);
        if (end < 0) {
          error = "quoted field is never closed";
          resume = lineEnd(text, start);
          break;
        }
        field = text.slice(pos + 1, end - 1).replaceAll('""', '"');
        pos = end;
        line += countNewlines(text, fieldStart, pos);
        atFieldStart = false;
        if (pos < n && !isDelimiter(text, pos)) {
          error = `unexpected ${JSON.stringify(text[pos])} after a closing quote`;
          resume = lineEnd(text, pos);
          break;
        }
      } else if (c === ",") {
        fields.push(field);
        field = "";
        atFieldStart = true;
        pos++;
      } else if (c === "\n" || (c === "\r" && text[pos + 1] === "\n")) {
        fields.push(field);
        pos += c === "\n" ? 1 : 2;
        line++;
        break;
      } else {
        let end = pos;
        while (end < n && !isDelimiter(text, end)) end++;
        field += text.slice(pos, end);
        pos = end;
        atFieldStart = false;
      }
    }
    if (error !== undefined) {
      records.push({ line: startLine, error });
      line = startLine + countNewlines(text, start, resume);
      pos = resume;
    } else if (!(fields.length === 1 && isBlank(fields[0]) && text[start] !== '"')) {
      records.push({ line: startLine, fields });
    }
  }
  return records;
}

/** A comma, LF or CRLF at `pos`. A lone CR is an ordinary character. */
function isDelimiter(text: string, pos: number): boolean {
  const c = text[pos];
  return c === "," || c === "\n" || (c === "\r" && text[pos + 1] === "\n");
}

/** Position after the closing quote of the quoted field opening at `pos`, or -1 if never closed. */
function quotedFieldEnd(text: string, pos: number): number {
  let i = pos + 1;
  for (;;) {
    const q = text.indexOf('"', i);
    if (q < 0) return -1;
    if (text[q + 1] !== '"') return q + 1;
    i = q + 2;
  }
}

/** Position after the line break ending the line that holds `pos` (or the end of the text). */
function lineEnd(text: string, pos: number): number {
  const nl = text.indexOf("\n", pos);
  return nl < 0 ? text.length : nl + 1;
}

function countNewlines(text: string, from: number, to: number): number {
  let count = 0;
  for (let i = text.indexOf("\n", from); i >= 0 && i < to; i = text.indexOf("\n", i + 1)) count++;
  return count;
}

// ---------------------------------------------------------------------------------------------
// JSON lines

/** One JSON object per line (blank lines ignored); a file holding one JSON array is accepted too. */
function readJsonLines(text: string): { columns: string[]; rows: RawRow[] } {
  const rows: RawRow[] = [];
  if (text.trimStart().startsWith("[")) {
    const lead = text.length - text.trimStart().length;
    const line = countNewlines(text, 0, lead) + 1;
    let values: unknown;
    try {
      values = JSON.parse(text);
    } catch (e) {
      rows.push({ line, error: `bad JSON (${(e as Error).message})` });
      return { columns: [], rows };
    }
    if (!Array.isArray(values)) return { columns: [], rows: [{ line, error: "expected a JSON array" }] };
    values.forEach((value, i) => rows.push({ ...jsonRow(value, line), where: `record ${i + 1}` }));
  } else {
    text.split("\n").forEach((raw, i) => {
      if (isBlank(raw)) return;
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch (e) {
        rows.push({ line: i + 1, error: `bad JSON (${(e as Error).message})` });
        return;
      }
      rows.push(jsonRow(value, i + 1));
    });
  }
  const first = rows.find((r) => r.fields !== undefined);
  return { columns: first ? Object.keys(first.fields!) : [], rows };
}

function jsonRow(value: unknown, line: number): RawRow {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { line, error: "expected a JSON object" };
  }
  return { line, fields: value as Record<string, unknown> };
}

// ---------------------------------------------------------------------------------------------
// Labels

export interface LabelMapping {
  /** The class id of every example, in example order. */
  ids: number[];
  numClasses: number;
  /** As in a Hugging Face config.json. */
  id2label: Record<number, string>;
  label2id: Record<string, number>;
}

const INTEGER = /^\d+$/;
const SENTIMENT_ORDER = ["negative", "neutral", "positive"];

/**
 * The distinct labels in class-id order: integers numerically; the sentiment words negative <
 * neutral < positive (any case) in that order when every label is one of them; else alphabetically
 * (by code point, so the order does not depend on the locale).
 */
export function labelSet(examples: readonly Example[]): string[] {
  const labels = [...new Set(examples.map((e) => e.label))];
  if (labels.every((l) => INTEGER.test(l))) return labels.sort((a, b) => Number(a) - Number(b));
  const rank = (l: string) => SENTIMENT_ORDER.indexOf(l.toLowerCase());
  if (labels.every((l) => rank(l) >= 0)) return labels.sort((a, b) => rank(a) - rank(b) || cmp(a, b));
  return labels.sort(cmp);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Class ids for the examples' labels.
 *
 * Without `label2id` (training a new model): integer labels ("0", "1", …) are their own ids, with
 * names NEGATIVE / POSITIVE when the largest is 1 (SST-2, IMDB) and LABEL_i otherwise; other labels
 * are numbered in `labelSet` order and keep their spelling as names.
 *
 * With `label2id` (a model's config): a label is looked up as spelt, then case-insensitively; an
 * integer label that is not a key is taken as the id itself when it is in range.
 */
export function mapLabels(examples: readonly Example[], label2id?: Record<string, number>): LabelMapping {
  if (label2id) return mapWithConfig(examples, label2id);
  const labels = labelSet(examples);
  const id2label: Record<number, string> = {};
  const map: Record<string, number> = {};
  if (labels.length > 0 && labels.every((l) => INTEGER.test(l))) {
    const numClasses = Number(labels[labels.length - 1]) + 1;
    for (let i = 0; i < numClasses; i++) {
      id2label[i] = numClasses === 2 ? ["NEGATIVE", "POSITIVE"][i] : `LABEL_${i}`;
      map[id2label[i]] = i;
    }
    return { ids: examples.map((e) => Number(e.label)), numClasses, id2label, label2id: map };
  }
  labels.forEach((l, i) => {
    id2label[i] = l;
    map[l] = i;
  });
  return { ids: examples.map((e) => map[e.label]), numClasses: labels.length, id2label, label2id: map };
}

function mapWithConfig(examples: readonly Example[], label2id: Record<string, number>): LabelMapping {
  const id2label: Record<number, string> = {};
  for (const [name, id] of Object.entries(label2id)) id2label[id] = name;
  const numClasses = Math.max(-1, ...Object.values(label2id)) + 1;
  const lower = new Map(Object.entries(label2id).map(([k, v]) => [k.toLowerCase(), v]));
  const cache = new Map<string, number>();
  const ids = examples.map((e) => {
    let id = cache.get(e.label);
    if (id !== undefined) return id;
    id = label2id[e.label] ?? lower.get(e.label.toLowerCase());
    if (id === undefined && INTEGER.test(e.label) && Number(e.label) < numClasses) id = Number(e.label);
    if (id === undefined) {
      throw new XaitError(
        `label "${e.label}" is not one of the model's labels (${Object.keys(label2id).join(", ")}); map the labels or train a new model`,
      );
    }
    cache.set(e.label, id);
    return id;
  });
  return { ids, numClasses, id2label, label2id: { ...label2id } };
}

// ---------------------------------------------------------------------------------------------
// Splits

/**
 * A reproducible held-out split: a Fisher-Yates shuffle of the indices by `Random(seed)` (mulberry32);
 * the first `round(fraction·n)` shuffled examples form `validation`, the rest `train`. Both keep
 * the file's order, so the split is a function of (n, fraction, seed) only.
 */
export function splitDataset<T>(
  examples: readonly T[],
  fraction: number,
  seed: number,
): { train: T[]; validation: T[] } {
  if (!(fraction >= 0 && fraction <= 1)) {
    throw new XaitError(`validation fraction ${fraction} is not between 0 and 1`);
  }
  const { chosen, rest } = seededSubset(examples, Math.round(fraction * examples.length), seed);
  return { train: rest, validation: chosen };
}

/**
 * The first `count` examples of a seeded shuffle (all of them when count ≥ their number), and the
 * others; both kept in their original order.
 */
export function seededSubset<T>(
  examples: readonly T[],
  count: number,
  seed: number,
): { chosen: T[]; rest: T[] } {
  const n = examples.length;
  const order = new Random(seed).shuffle(Array.from({ length: n }, (_, i) => i));
  const held = new Uint8Array(n);
  for (let i = 0; i < Math.min(count, n); i++) held[order[i]!] = 1;
  const chosen: T[] = [];
  const rest: T[] = [];
  examples.forEach((e, i) => (held[i] ? chosen : rest).push(e));
  return { chosen, rest };
}
