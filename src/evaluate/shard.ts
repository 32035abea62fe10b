/**
 * Shards: the samples 0…n−1 of an evaluation are cut into blocks of `block` consecutive samples
 * (the samples whose rule-set explanations share forward and backward passes), and block b belongs
 * to shard (b mod N) + 1. The slices depend on (n, block, N) only, so every machine computes the
 * same ones, and a sample's result is the same in any shard as in a single run. Browser-safe.
 */
import { usageError, XaitError } from "../errors.js";
import type { JournalRecord, Shard } from "./journal.js";

/** Parses "K/N" (1 ≤ K ≤ N); anything else is a usage error naming `flag`. */
export function parseShard(text: string, flag = "--shard"): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const k = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || !(n >= 1) || !(k >= 1) || k > n)
    throw usageError(`${flag} must be K/N with 1 ≤ K ≤ N (e.g. 1/3), got '${text}'`);
  return { k, n };
}

/** The shard (1…N) of sample `index` when blocks of `block` samples are dealt round-robin to N shards. */
export function shardOfSample(index: number, block: number, n: number): number {
  return (Math.floor(index / block) % n) + 1;
}

/** The sample indices of a shard (all of 0…total−1 when `shard` is null), ascending. */
export function shardSamples(total: number, block: number, shard: Shard | null): number[] {
  const out: number[] = [];
  for (let i = 0; i < total; i++) if (!shard || shardOfSample(i, block, shard.n) === shard.k) out.push(i);
  return out;
}

/** A shard's journal as the merge sees it: where it came from, which shard, which samples it holds. */
export interface ShardJournal<R> {
  source: string;
  shard: Shard | null;
  records: JournalRecord<R>[];
}

/**
 * Checks that shards cover every sample exactly once — one journal per shard K of the same N, none
 * missing, each complete — and returns all records sorted by index. Errors name the shards.
 */
export function mergeShards<R>(
  shards: readonly ShardJournal<R>[],
  total: number,
  block: number,
): JournalRecord<R>[] {
  if (shards.length === 0) throw new XaitError("no shards to merge");
  const n = shards[0]!.shard?.n ?? 1;
  const name = (s: ShardJournal<R>) => `${s.source} (shard ${s.shard ? `${s.shard.k}/${s.shard.n}` : "1/1"})`;
  const byK = new Map<number, ShardJournal<R>>();
  for (const s of shards) {
    const sn = s.shard?.n ?? 1;
    if (sn !== n) throw new XaitError(`${name(s)} is one of ${sn} shards, ${name(shards[0]!)} one of ${n}`);
    const k = s.shard?.k ?? 1;
    const other = byK.get(k);
    if (other) throw new XaitError(`${name(other)} and ${name(s)} overlap: both are shard ${k}/${n}`);
    byK.set(k, s);
  }
  const missing = Array.from({ length: n }, (_, k) => k + 1).filter((k) => !byK.has(k));
  if (missing.length)
    throw new XaitError(
      `shard${missing.length > 1 ? "s" : ""} ${missing.map((k) => `${k}/${n}`).join(", ")} missing (given: ${shards.map(name).join(", ")})`,
    );
  const all: JournalRecord<R>[] = [];
  for (const s of shards) {
    const want = shardSamples(total, block, n === 1 ? null : { k: s.shard?.k ?? 1, n });
    const have = new Set(s.records.map((r) => r.i));
    const foreign = s.records.find((r) => shardOfSample(r.i, block, n) !== (s.shard?.k ?? 1));
    if (foreign) throw new XaitError(`${name(s)} holds sample ${foreign.i}, which belongs to another shard`);
    const absent = want.filter((i) => !have.has(i));
    if (absent.length)
      throw new XaitError(
        `${name(s)} is incomplete: ${want.length - absent.length} of ${want.length} samples (first missing: ${absent[0]}); finish it with --resume`,
      );
    all.push(...s.records);
  }
  return all;
}
