/**
 * `xait evaluate merge OUT SHARD_DIR…`: the shards of one evaluation (run with --shard K/N, each
 * writing its journal) become the report of a single run. Every journal found in the shard folders
 * is merged: the shards must share one identity, be K = 1…N of one N each once, and be complete.
 * OUT receives the merged journal (as a single run would leave it) and the reports.
 */
import { existsSync, renameSync } from "node:fs";
import { join } from "node:path";
import { usageError, XaitError } from "../errors.js";
import {
  identityDifferences,
  JOURNAL_FORMAT,
  type JournalHeader,
  type JournalRecord,
} from "../evaluate/journal.js";
import { journalFiles, JournalWriter, readJournal } from "../evaluate/journal-node.js";
import { mergeShards } from "../evaluate/shard.js";
import { parseFlags, type FlagTable } from "./flags.js";
import { journalPath, ranOnOf, reporterOf, writeResults } from "./evaluate-skeleton.js";

export const MERGE_FLAGS = {
  force: { kind: "boolean", help: "replace an earlier journal and report in OUT" },
  json: { kind: "boolean", help: "print one JSON object per merged evaluation on stdout" },
} as const satisfies FlagTable;

const warn = (m: string) => process.stderr.write(`warning: ${m}\n`);

export async function runMerge(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(MERGE_FLAGS, argv, { positionals: true });
  const [out, ...dirs] = positionals;
  if (out === undefined || dirs.length === 0)
    throw usageError("usage: xait evaluate merge OUT SHARD_DIR… (the --out folders of the shards)");
  const names = [...new Set(dirs.flatMap(journalFiles))];
  if (names.length === 0)
    throw new XaitError(`no evaluation journal (*.journal.jsonl) in ${dirs.join(", ")}`);
  for (const name of names) {
    const evaluation = name.replace(/\.journal\.jsonl$/, "");
    const shards = dirs.map((dir) => {
      const file = join(dir, name);
      if (!existsSync(file)) throw new XaitError(`${dir} has no ${name}: not a shard of this evaluation`);
      return { dir, file, journal: readJournal(file, warn) };
    });
    const first = shards[0]!;
    for (const s of shards.slice(1)) {
      const diff = identityDifferences(first.journal.header.identity, s.journal.header.identity);
      if (diff.length)
        throw new XaitError(
          `${s.file} and ${first.file} are shards of different evaluations (differ in ${diff.join(", ")})`,
        );
    }
    const identity = first.journal.header.identity;
    const block = Number(identity.options.block);
    const records: JournalRecord[] = mergeShards(
      shards.map((s) => ({ source: s.dir, shard: s.journal.header.shard, records: s.journal.records })),
      identity.samples,
      block,
    ).sort((a, b) => a.i - b.i);
    // the report names the machine, backend and command of every shard
    const ranOn = shards.flatMap((s) => ranOnOf(s.journal.header));
    const header: JournalHeader = {
      journal: JOURNAL_FORMAT,
      identity,
      shard: null,
      context: { ...first.journal.header.context, ran_on: ranOn },
    };
    const target = journalPath(out, evaluation);
    const reporter = reporterOf(identity.evaluation, first.file);
    const taken = [target, ...reporter.files(header).map((f) => join(out, f))].find((f) => existsSync(f));
    if (taken && !values.force) throw usageError(`${taken} exists: use --force to replace it or another OUT`);
    const writer = JournalWriter.create(`${target}.tmp-${process.pid}`, header);
    writer.append(records);
    writer.close();
    renameSync(`${target}.tmp-${process.pid}`, target);
    writeResults(
      out,
      header,
      records,
      { args: ["evaluate", "merge", ...argv], ranOn },
      values.json,
      reporter,
    );
  }
  return 0;
}
