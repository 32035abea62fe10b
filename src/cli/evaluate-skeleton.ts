/**
 * The one skeleton every `xait evaluate` subcommand plugs into: flags → backend → model and data
 * (the evaluation's `prepare`) → journal (create, or continue with --resume) → the shard's pending
 * samples, each journaled as soon as it is done, with progress → report from the journal.
 *
 * - The journal (`OUT/<name>.journal.jsonl`) starts with the run's identity; --resume continues it
 *   and refuses a journal of another identity; without --resume or --force an existing journal or
 *   report is never replaced.
 * - Ctrl-C / SIGTERM stop after the current sample (exit 130 / 143) and print how to resume; a
 *   second signal stops at once (the journal holds every finished sample either way).
 * - --shard K/N evaluates one slice (see evaluate/shard.ts) and writes only its journal;
 *   `xait evaluate merge` reports the union.
 * - Reports are made from the journal's records alone, so a resumed run and a merge of shards
 *   report exactly what a single run reports; timings go to a separate file and section.
 */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { usageError, XaitError } from "../errors.js";
import {
  identityDifferences,
  JOURNAL_FORMAT,
  roundTrip,
  sortedRecords,
  type JournalHeader,
  type JournalIdentity,
  type JournalRecord,
  type Shard,
} from "../evaluate/journal.js";
import {
  hashFile,
  hashFolder,
  JournalWriter,
  readJournal,
  JOURNAL_SUFFIX,
} from "../evaluate/journal-node.js";
import { parseShard, shardSamples } from "../evaluate/shard.js";
import { DEFAULT_BLOCK } from "../evaluate/sample-loop.js";
import { backendInfo, initBackend } from "../tensor/backends.js";
import { VERSION } from "../version.js";
import { setupNative } from "../onnx/register-node.js";
import {
  commandLine,
  evaluationProgress,
  ranOnHere,
  writeReport,
  type RanOn,
  type RunInfo,
} from "./evaluate-common.js";

export type { RunInfo } from "./evaluate-common.js";
import { THREADS_FLAG, type FlagTable, type FlagValues } from "./flags.js";

/** Flags of every evaluation: where results go, resuming, shards, output and threads. */
export const RUN_FLAGS = {
  out: {
    kind: "string",
    value: "DIR",
    help: "write the journal (each sample as it is done) and the report files into DIR",
  },
  resume: {
    kind: "boolean",
    help: "continue the journal in --out DIR, skipping the samples it holds (starts it when\nthere is none); refused when the journal is of another model, data, methods or options",
  },
  force: { kind: "boolean", help: "replace an earlier journal and report in --out DIR instead of refusing" },
  shard: {
    kind: "string",
    value: "K/N",
    help: "evaluate only the K-th of N disjoint slices of the samples (needs --out; then\nxait evaluate merge OUT DIR…)",
  },
  block: {
    kind: "number",
    value: "N",
    integer: true,
    min: 1,
    default: DEFAULT_BLOCK,
    help: "samples explained together by the batched methods (rule sets, saliency)",
  },
  json: { kind: "boolean", help: "print one JSON object on stdout (progress and run time go to stderr)" },
  threads: THREADS_FLAG,
} as const satisfies FlagTable;

/** What an evaluation shows: report files, the terminal text and the --json object. */
export interface Report {
  files: Record<string, string>;
  /** Stdout without --json. */
  text: string;
  json: unknown;
  /** The run-time line (stdout, or stderr with --json). */
  timeLine: string;
}

/** Turns a journal's header and every sample's result (in sample order) into the report. */
export interface Reporter {
  /** Report file names (checked before a fresh run so that nothing is overwritten without --force). */
  files(header: JournalHeader): string[];
  report(header: JournalHeader, results: unknown[], run: RunInfo): Report;
}

const REPORTERS = new Map<string, Reporter>();

/** Registers the reporter of an evaluation (keyed by the identity's `evaluation`). */
export function registerReporter(evaluation: string, r: Reporter): void {
  REPORTERS.set(evaluation, r);
}

export function reporterOf(evaluation: string, source: string): Reporter {
  const r = REPORTERS.get(evaluation);
  if (!r) throw new XaitError(`${source}: unknown evaluation '${evaluation}'`);
  return r;
}

/** An evaluation prepared for a run: its samples, identity, and the loop over pending samples. */
export interface EvaluationPlan {
  /** Journal and report base name, e.g. "perturbation", "rationale-tweets". */
  name: string;
  /** The reporter key, e.g. "perturbation". */
  evaluation: string;
  /** Number of samples (indices 0…total−1). */
  total: number;
  modelDir: string;
  /** The file (or comma-separated files) whose content the identity hashes (the data). */
  dataFile: string;
  methods: string[];
  seed: number;
  /** Options that change results (the block size is added by the skeleton). */
  options: Record<string, string | number | boolean | null>;
  /** What the report shows beside the results. */
  context: Record<string, unknown>;
  /** Evaluates the samples `pending` accepts, in index order, one result per finished sample. */
  run(pending: (index: number) => boolean, block: number): Iterable<{ index: number; result: unknown }>;
  /** Called once the loop is over (e.g. a count of truncated texts). */
  finish?(): void;
}

type RunValues = FlagValues<typeof RUN_FLAGS>;

/** The journal file of an evaluation in a folder. */
export function journalPath(out: string, name: string): string {
  return join(out, `${name}${JOURNAL_SUFFIX}`);
}

const warn = (m: string) => process.stderr.write(`warning: ${m}\n`);

/** The run's identity (hashes the model folder and the data file). */
function identityOf(plan: EvaluationPlan, block: number): JournalIdentity {
  return {
    evaluation: plan.evaluation,
    xait: VERSION,
    model: hashFolder(plan.modelDir),
    // a comma-separated list of files (--next-token documents): their hashes in order
    data: plan.dataFile ? plan.dataFile.split(",").filter(Boolean).map(hashFile).join(",") : "",
    methods: plan.methods,
    // the kernel backend changes the last bits of results (its thread count does not)
    options: { ...plan.options, block, backend: backendInfo().name },
    seed: plan.seed,
    samples: plan.total,
  };
}

/** A sample's result after the journal's round trip, so that fresh and resumed runs report the same numbers. */
function record(index: number, wallMs: number, result: unknown): JournalRecord {
  return roundTrip({ i: index, wall_ms: wallMs, result });
}

/**
 * Runs an evaluation through the skeleton. `sub` and `argv` are the subcommand and its arguments
 * (for the resume hint); `prepare` loads model and data after the backend is started.
 */
export async function runEvaluation<T extends FlagTable>(
  sub: string,
  argv: readonly string[],
  values: FlagValues<T> & RunValues,
  prepare: () => EvaluationPlan,
): Promise<number> {
  const out = values.out;
  if (!out && (values.resume || values.shard !== undefined || values.force))
    throw usageError(
      `--${values.resume ? "resume" : values.shard !== undefined ? "shard" : "force"} needs --out DIR`,
    );
  if (values.resume && values.force) throw usageError("give --resume or --force, not both");
  const shard: Shard | null = values.shard === undefined ? null : parseShard(values.shard);
  await initBackend({ threads: values.threads });
  setupNative(values.threads !== undefined ? { threads: values.threads } : {});
  const plan = prepare();
  const block = values.block;
  const identity = identityOf(plan, block);
  const args = ["evaluate", sub, ...argv];
  const here = ranOnHere(args);
  // the process that starts a journal names itself in the header; one that resumes it is added to the report
  const header: JournalHeader = {
    journal: JOURNAL_FORMAT,
    identity,
    shard,
    context: { ...plan.context, ran_on: here },
  };
  const ranOn: RanOn[] = [here];
  const reporter = reporterOf(plan.evaluation, plan.name);

  // the journal: continued (--resume), replaced (--force) or new; nothing is replaced silently
  let writer: JournalWriter | undefined;
  const records: JournalRecord[] = [];
  const file = out ? journalPath(out, plan.name) : "";
  if (out) {
    const exists = existsSync(file);
    if (exists && values.resume) {
      const parsed = readJournal(file, warn);
      const diff = identityDifferences(parsed.header.identity, identity);
      if (diff.length)
        throw new XaitError(
          `${file} is a journal of another evaluation (differs in ${diff.join(", ")}); use another --out or --force to start over`,
        );
      const was = parsed.header.shard ? `${parsed.header.shard.k}/${parsed.header.shard.n}` : "none";
      const now = shard ? `${shard.k}/${shard.n}` : "none";
      if (was !== now) throw new XaitError(`${file} is the journal of shard ${was}, not of --shard ${now}`);
      records.push(...sortedRecords(parsed.records, file));
      ranOn.unshift(...ranOnOf(parsed.header));
      writer = JournalWriter.resume(file, parsed);
      process.stderr.write(`resuming ${file}: ${records.length} sample(s) already done\n`);
    } else {
      if (exists && !values.force)
        throw usageError(`${file} exists: add --resume to continue it or --force to start over`);
      const old = reporter.files(header).filter((f) => existsSync(join(out, f)));
      if (old.length && !values.force)
        throw usageError(`${join(out, old[0]!)} exists: use --force to replace it or another --out`);
      if (exists) rmSync(file);
      writer = JournalWriter.create(file, header);
    }
  }

  const members = shardSamples(plan.total, block, shard);
  const memberSet = shard ? new Set(members) : null;
  const done = new Set(records.map((r) => r.i));
  const pendingCount = members.filter((i) => !done.has(i)).length;
  const pending = (i: number) => (memberSet === null || memberSet.has(i)) && !done.has(i);

  // Ctrl-C / SIGTERM: stop after the current sample; a second signal stops at once
  let stop: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop) process.exit(signal === "SIGINT" ? 130 : 143);
    stop = signal;
    process.stderr.write(`\n${signal}: stopping after the current sample (again to stop at once)\n`);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const progress = evaluationProgress(shard ? `${plan.name} ${shard.k}/${shard.n}` : plan.name);
  try {
    let last = performance.now();
    let count = 0;
    for (const { index, result } of plan.run(pending, block)) {
      const now = performance.now();
      const r = record(index, now - last, result);
      last = now;
      writer?.append([r]);
      records.push(r);
      done.add(index);
      progress.update(++count, pendingCount);
      // let signals in between samples
      await new Promise((resolve) => setImmediate(resolve));
      if (stop) break;
    }
  } finally {
    progress.done();
    writer?.close();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    plan.finish?.();
  }
  const held = members.filter((i) => done.has(i)).length;
  if (stop && held < members.length) {
    const again = args.filter((a) => a !== "--force" && a !== "--resume").concat("--resume");
    process.stderr.write(
      `stopped by ${stop}: ${held} of ${members.length} samples done${out ? ` and kept in ${file}` : " (nothing kept: no --out DIR)"}` +
        (out ? `; resume with: ${commandLine(again)}` : "") +
        "\n",
    );
    return stop === "SIGINT" ? 130 : 143;
  }
  if (shard) {
    process.stderr.write(
      `shard ${shard.k}/${shard.n}: ${held} samples in ${file}; when every shard is done: xait evaluate merge OUT DIR…\n`,
    );
    return 0;
  }
  writeResults(
    out,
    header,
    sortedRecords(records, file || plan.name),
    { args, ranOn },
    values.json,
    reporter,
  );
  return 0;
}

/** Where the samples of a journal were computed, from its header (none for a journal written before headers said). */
export function ranOnOf(header: JournalHeader): RanOn[] {
  const r = header.context.ran_on;
  // one process, or (a merged journal) the processes of every shard
  const all: unknown[] = Array.isArray(r) ? r : r === undefined ? [] : [r];
  return all.flatMap((x) => {
    const o = x as Partial<RanOn> | null;
    return o &&
      typeof o.command === "string" &&
      typeof o.machine === "string" &&
      typeof o.backend === "string"
      ? [{ command: o.command, machine: o.machine, backend: o.backend }]
      : [];
  });
}

/** Reports every sample's record (sorted, complete) through the evaluation's reporter: files, stdout, run-time line. */
export function writeResults(
  out: string | undefined,
  header: JournalHeader,
  records: readonly JournalRecord[],
  run: Pick<RunInfo, "args" | "ranOn">,
  json: boolean,
  reporter = reporterOf(header.identity.evaluation, out ?? "journal"),
): void {
  if (records.length !== header.identity.samples)
    throw new XaitError(
      `${records.length} of ${header.identity.samples} samples are journaled; nothing to report yet`,
    );
  const seconds = records.reduce((a, r) => a + r.wall_ms, 0) / 1000;
  const report = reporter.report(
    header,
    records.map((r) => r.result),
    { ...run, seconds },
  );
  if (out) writeReport(out, report.files);
  if (json) {
    process.stdout.write(JSON.stringify(report.json) + "\n");
    process.stderr.write(report.timeLine);
  } else process.stdout.write(report.text + report.timeLine);
}

/** The run file of a report: command, date, where the samples ran, run time (not comparable between runs). */
export function runJSON(run: RunInfo, timing: unknown): Record<string, unknown> {
  return {
    command: commandLine(run.args),
    date: new Date().toISOString(),
    ran_on: run.ranOn,
    run_time_s: run.seconds,
    timing,
  };
}
