/**
 * Declarative command-line flags: one table per command gives every flag's kind, value name, help
 * line, default and numeric range; from it come both the `node:util` parseArgs options and the
 * "Options:" block of the command's --help, so a default is written once. Numeric flags are checked
 * (integer, min, above, max) and a value outside is a usage error naming the flag.
 */
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { usageError } from "../errors.js";

export interface StringFlag {
  kind: "string";
  /** Placeholder in the help, e.g. "DIR". */
  value: string;
  help: string;
  default?: string;
  /** The allowed values (others are a usage error listing them). */
  choices?: readonly string[];
  /** The flag may be given several times; its value is the list of all (empty when absent). */
  multiple?: boolean;
}

export interface NumberFlag {
  kind: "number";
  value: string;
  help: string;
  default?: number;
  /** A default that depends on other flags, shown in the help, e.g. "4 × hidden". */
  defaultText?: string;
  integer?: boolean;
  min?: number;
  /** Exclusive lower bound. */
  above?: number;
  max?: number;
}

export interface BooleanFlag {
  kind: "boolean";
  help: string;
}

export type Flag = StringFlag | NumberFlag | BooleanFlag;
export type FlagTable = Readonly<Record<string, Flag>>;

type FlagValue<F> = F extends { kind: "boolean" }
  ? boolean
  : F extends { kind: "string"; multiple: true }
    ? string[]
    : F extends { kind: "number"; default: number }
      ? number
      : F extends { kind: "number" }
        ? number | undefined
        : F extends { kind: "string"; default: string }
          ? string
          : string | undefined;

/** The parsed values of a flag table: numbers as numbers, defaults applied, booleans false when absent. */
export type FlagValues<T extends FlagTable> = { -readonly [K in keyof T]: FlagValue<T[K]> };

/** A numeric flag's value checked against its range (a usage error naming the flag otherwise). */
export function checkNumber(
  name: string,
  value: string,
  flag: Omit<NumberFlag, "kind" | "value" | "help">,
): number {
  const v = Number(value);
  if (value.trim() === "" || !Number.isFinite(v) || (flag.integer && !Number.isSafeInteger(v)))
    throw usageError(
      `--${name} must be ${flag.integer ? "an integer" : "a number"}, got '${oneLineValue(value)}'`,
    );
  if (flag.min !== undefined && v < flag.min)
    throw usageError(`--${name} must be at least ${flag.min}, got ${v}`);
  if (flag.above !== undefined && v <= flag.above)
    throw usageError(`--${name} must be greater than ${flag.above}, got ${v}`);
  if (flag.max !== undefined && v > flag.max)
    throw usageError(`--${name} must be at most ${flag.max}, got ${v}`);
  return v;
}

/** A flag value as shown in a message: one line, at most 40 characters. */
function oneLineValue(value: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = value.replace(/[\u0000-\u001f\u007f]+/g, " ");
  return flat.length > 40 ? flat.slice(0, 39) + "…" : flat;
}

/** A numeric flag typed by hand (e.g. one item of a list flag), checked like a table's. */
export function numberValue(
  name: string,
  value: string,
  flag: Omit<NumberFlag, "kind" | "value" | "help">,
): number {
  return checkNumber(name, value, flag);
}

/**
 * Flags several commands share, with one range each: more threads than this only cost memory;
 * Integrated Gradients' time grows linearly with its steps; beyond γ = 1000 the γ-rule is already the
 * positive-weights rule, and larger γ overflows float32 into NaN.
 */
export const THREADS_FLAG = {
  kind: "number",
  value: "N",
  integer: true,
  min: 1,
  max: Math.max(64, cpus().length),
  help: "threads of the wasm backend (default: all cores) and of the native one (default 2;\nXAIT_BACKEND=js for the reference backend)",
} as const satisfies NumberFlag;

export const GAMMA_FLAG = {
  kind: "number",
  value: "G",
  min: 0,
  max: 1000,
  default: 0,
  help: "LRP-γ on the linear layers inside the blocks, for lrp, lrp-ah, attnlrp",
} as const satisfies NumberFlag;

export const STEPS_FLAG = {
  kind: "number",
  value: "N",
  integer: true,
  min: 1,
  max: 10_000,
  default: 50,
  help: "Integrated Gradients steps",
} as const satisfies NumberFlag;

/**
 * Parses `argv` by a flag table; `positionals` says whether bare arguments are allowed. `given`
 * names the flags that were on the command line (a default is not "given").
 */
export function parseFlags<T extends FlagTable>(
  table: T,
  argv: readonly string[],
  opts: { positionals?: boolean } = {},
): { values: FlagValues<T>; positionals: string[]; given: Set<string> } {
  const options = Object.fromEntries(
    Object.entries(table).map(([name, f]) => [
      name,
      {
        type: f.kind === "boolean" ? "boolean" : "string",
        ...(f.kind === "string" && f.multiple ? { multiple: true } : {}),
      },
    ]),
  ) as Record<string, { type: "string" | "boolean"; multiple?: boolean }>;
  const parsed = parseArgs({
    args: [...argv],
    options,
    allowPositionals: opts.positionals ?? false,
    strict: true,
  });
  const raw = parsed.values as Record<string, string | string[] | boolean | undefined>;
  const values: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(table)) {
    const given = raw[name];
    if (f.kind === "boolean") values[name] = given === true;
    else if (f.kind === "number")
      values[name] = typeof given === "string" ? checkNumber(name, given, f) : f.default;
    else if (f.multiple) values[name] = Array.isArray(given) ? given : [];
    else {
      if (typeof given === "string" && f.choices && !f.choices.includes(given))
        throw usageError(`--${name} must be ${f.choices.join(" or ")}, got '${given}'`);
      values[name] = typeof given === "string" ? given : f.default;
    }
  }
  const given = new Set(Object.keys(raw).filter((k) => raw[k] !== undefined));
  return { values: values as FlagValues<T>, positionals: parsed.positionals, given };
}

/** A number's range for the help, e.g. "integer, ≥ 1", "≥ 0, ≤ 0.9". */
function range(f: NumberFlag): string {
  const bounds = [
    f.min !== undefined ? `≥ ${f.min}` : "",
    f.above !== undefined ? `> ${f.above}` : "",
    f.max !== undefined ? `≤ ${f.max}` : "",
  ].filter(Boolean);
  return [f.integer ? "integer" : "", ...bounds].filter(Boolean).join(", ");
}

/**
 * The "Options:" lines of a flag table: `--name VALUE` then the help text, the default in brackets
 * and a numeric flag's range; continuation lines are indented under the help column.
 */
export function flagHelp(table: FlagTable, width = 24): string {
  const lines: string[] = [];
  for (const [name, f] of Object.entries(table)) {
    const head = `  --${name}${f.kind === "boolean" ? "" : ` ${f.value}`}`;
    const notes: string[] = [];
    if (f.kind === "number") {
      const r = range(f);
      if (r) notes.push(r);
    }
    if (f.kind !== "boolean" && f.default !== undefined) notes.push(`default ${f.default}`);
    if (f.kind === "number" && f.defaultText !== undefined) notes.push(`default ${f.defaultText}`);
    const text = f.help + (notes.length ? ` [${notes.join("; ")}]` : "");
    const [first, ...rest] = text.split("\n");
    if (head.length + 1 < width) lines.push(head.padEnd(width) + first);
    else lines.push(head, " ".repeat(width) + first);
    for (const l of rest) lines.push(" ".repeat(width) + l);
  }
  return lines.join("\n");
}
