/**
 * `xait evaluate compare A B`: two complete runs of one evaluation on the same model and data (their
 * --out folders), e.g. `lrp` with and without `--rule head.activation=identity`, compared sample by
 * sample with a paired bootstrap of the mean difference B − A.
 */
import { join } from "node:path";
import { usageError, XaitError } from "../errors.js";
import { compareRuns, type RunComparison } from "../evaluate/compare.js";
import { journalFiles, readJournal } from "../evaluate/journal-node.js";
import { parseFlags, type FlagTable } from "./flags.js";

export const COMPARE_FLAGS = {
  json: { kind: "boolean", help: "print the comparison as one JSON object" },
} as const satisfies FlagTable;

const warn = (m: string) => process.stderr.write(`warning: ${m}\n`);

function journalIn(dir: string): string {
  const files = journalFiles(dir).filter((f) => /^(perturbation|conservation)\.journal\.jsonl$/.test(f));
  if (files.length !== 1)
    throw new XaitError(
      `${dir}: ${files.length === 0 ? "no perturbation or conservation journal" : "more than one journal"} (give the --out folder of one run)`,
    );
  return join(dir, files[0]!);
}

const fmt = (v: number) => (Math.abs(v) >= 0.001 || v === 0 ? v.toFixed(4) : v.toExponential(2));

/** The comparison as a Markdown table. */
export function comparisonMarkdown(c: RunComparison, a: string, b: string): string {
  const lines = [
    `${c.evaluation}: B = ${b} against A = ${a}, ${c.samples} samples; mean of B − A with its ${Math.round(c.level * 100)} % paired bootstrap interval (${c.resamples} resamples)`,
    "",
    "| metric | method | A | B | B − A | interval | better |",
    "|---|---|---|---|---|---|---|",
    ...c.rows.map(
      (r) =>
        `| ${r.metric.replace(/\|/g, "\\|")} ${r.higherIsBetter ? "↑" : "↓"} | ${r.method} | ${fmt(r.a)} | ${fmt(r.b)} | ${fmt(r.difference)} | [${fmt(r.interval[0])}, ${fmt(r.interval[1])}] | ${r.better === "neither" ? "not separable" : r.better} |`,
    ),
  ];
  return lines.join("\n") + "\n";
}

export async function runCompare(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(COMPARE_FLAGS, argv, { positionals: true });
  if (positionals.length !== 2)
    throw usageError("usage: xait evaluate compare A_DIR B_DIR (the --out folders of two runs)");
  const [a, b] = positionals as [string, string];
  const c = compareRuns(readJournal(journalIn(a), warn), readJournal(journalIn(b), warn), [a, b]);
  process.stdout.write(values.json ? JSON.stringify(c) + "\n" : comparisonMarkdown(c, a, b));
  return 0;
}
