/**
 * A team of threads sharing one WebAssembly memory. The calling thread posts a job — a kernel, its
 * descriptor and a number of independent chunks — into a small shared control block; every thread,
 * the caller included, then claims chunks one at a time until none is left, and the caller waits
 * only for chunks that helpers are still computing. A helper that is asleep, slow to wake or busy
 * elsewhere (another process on the core) therefore never holds the caller up: the caller just does
 * more chunks itself.
 *
 * No Node or browser API here: the platform code (wasm-node.ts, browser.ts) starts the helpers and
 * runs `helperLoop` in them.
 *
 * Control block (Int32Array on a SharedArrayBuffer):
 *   SEQ     job counter; helpers sleep until it changes
 *   NEXT    next chunk to claim, tagged with the job (bits 16…30 = SEQ mod 2¹⁵, bits 0…15 = chunk):
 *           a helper still holding an old job can never claim a chunk of a new one
 *   DONE    chunks finished (or failed) in the current job
 *   OP, DESC, CHUNKS  the job (OP = STOP_OP ends the helpers' loop)
 *   FAILED  set when a chunk threw (a trap); the caller reports it
 */

const SEQ = 0;
const NEXT = 1;
const DONE = 2;
const OP = 3;
const DESC = 4;
const CHUNKS = 5;
const FAILED = 6;
export const CONTROL_INTS = 8;
export const STOP_OP = -1;

/** Largest number of chunks in one job. */
export const MAX_CHUNKS = 0xffff;
const CHUNK_MASK = 0xffff;
const TAG_MASK = 0x7fff;

/** The kernel entry point: run chunk `chunk` of `chunks` of `op` (descriptor at `desc`) as thread `t`. */
export type KernelRun = (op: number, desc: number, t: number, chunk: number, chunks: number) => void;

/**
 * Polls of the control block before sleeping (one poll ≈ 15 ns, so ≈ 0.3 ms and 0.15 ms): helpers stay
 * hot between back-to-back kernels without burning a core that other work may need.
 */
const HELPER_SPINS = 20_000;
const CALLER_SPINS = 10_000;

/** The control block; a plain buffer will do for a team without helpers (no SharedArrayBuffer needed). */
export function createControl(shared = true): Int32Array {
  return new Int32Array(shared ? new SharedArrayBuffer(CONTROL_INTS * 4) : new ArrayBuffer(CONTROL_INTS * 4));
}

const tagOf = (seq: number): number => (seq & TAG_MASK) << 16;

/** Claim and run chunks of the job tagged `tag` until none is left (or the job is no longer current). */
function claimChunks(c: Int32Array, tag: number, t: number, run: KernelRun): void {
  const op = c[OP]!;
  const desc = c[DESC]!;
  const chunks = c[CHUNKS]!;
  for (;;) {
    const next = Atomics.load(c, NEXT);
    if ((next & ~CHUNK_MASK) !== tag) return;
    const chunk = next & CHUNK_MASK;
    if (chunk >= chunks) return;
    if (Atomics.compareExchange(c, NEXT, next, next + 1) !== next) continue;
    try {
      run(op, desc, t, chunk, chunks);
    } catch {
      Atomics.store(c, FAILED, 1);
    }
    if (Atomics.add(c, DONE, 1) + 1 === chunks) Atomics.notify(c, DONE);
  }
}

export class Team {
  /**
   * @param helpers number of helper threads already running `helperLoop` on `control`
   * @param canBlock whether this thread may Atomics.wait (false on a browser's main thread: it spins)
   */
  constructor(
    private readonly control: Int32Array,
    readonly helpers: number,
    private readonly run: KernelRun,
    private readonly canBlock = true,
  ) {}

  /** Threads that may take part in a job: the caller and its helpers. */
  get size(): number {
    return this.helpers + 1;
  }

  /** Run chunks 0…chunks−1 of `op` on the caller alone, in order. */
  serial(op: number, desc: number, chunks: number): void {
    for (let i = 0; i < chunks; i++) this.run(op, desc, 0, i, chunks);
  }

  /** Run the chunks of `op` on every thread that is free, and return when all are done. */
  dispatch(op: number, desc: number, chunks: number): void {
    if (this.helpers === 0 || chunks <= 1) return this.serial(op, desc, chunks);
    if (chunks > MAX_CHUNKS) throw new Error(`wasm team: ${chunks} chunks, at most ${MAX_CHUNKS}`);
    const c = this.control;
    const seq = (c[SEQ]! + 1) | 0;
    const tag = tagOf(seq);
    // close the old job before rewriting its fields: a late helper then finds nothing to claim
    Atomics.store(c, NEXT, tag | CHUNK_MASK);
    c[OP] = op;
    c[DESC] = desc;
    c[CHUNKS] = chunks;
    c[FAILED] = 0;
    Atomics.store(c, DONE, 0);
    Atomics.store(c, NEXT, tag);
    Atomics.store(c, SEQ, seq);
    Atomics.notify(c, SEQ);
    claimChunks(c, tag, 0, this.run);
    this.waitDone(chunks);
    if (Atomics.load(c, FAILED)) throw new Error(`wasm kernel ${op} failed`);
  }

  private waitDone(chunks: number): void {
    const c = this.control;
    for (let i = 0; i < CALLER_SPINS; i++) if (Atomics.load(c, DONE) === chunks) return;
    for (;;) {
      const done = Atomics.load(c, DONE);
      if (done === chunks) return;
      if (this.canBlock) Atomics.wait(c, DONE, done, 100);
    }
  }

  /** Ask the helpers to leave their loop (they may be terminated afterwards anyway). */
  stop(): void {
    const c = this.control;
    const seq = (c[SEQ]! + 1) | 0;
    Atomics.store(c, NEXT, tagOf(seq) | CHUNK_MASK);
    c[OP] = STOP_OP;
    Atomics.store(c, SEQ, seq);
    Atomics.notify(c, SEQ);
  }
}

/** The loop a helper thread runs until STOP_OP: sleep until a job is posted, claim its chunks. */
export function helperLoop(control: Int32Array, id: number, run: KernelRun): void {
  const c = control;
  let seen = Atomics.load(c, SEQ);
  for (;;) {
    let spins = 0;
    while (Atomics.load(c, SEQ) === seen) {
      if (spins < HELPER_SPINS) spins++;
      else Atomics.wait(c, SEQ, seen);
    }
    seen = Atomics.load(c, SEQ);
    if (c[OP] === STOP_OP) return;
    claimChunks(c, tagOf(seen), id, run);
  }
}
