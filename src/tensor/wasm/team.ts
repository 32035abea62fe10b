/**
 * A team of threads sharing one WebAssembly memory: the calling thread posts a job into a small shared
 * control block, does its own share, and waits for the helpers with Atomics. No Node or browser API
 * here — the platform code (wasm-node.ts, browser.ts) starts the helpers and runs `helperLoop` in them.
 *
 * Control block (Int32Array on a SharedArrayBuffer):
 *   SEQ      job counter; helpers wait for it to change
 *   PENDING  helpers that have not yet finished the current job (every helper acknowledges every job,
 *            so none can fall a job behind)
 *   OP, DESC, THREADS  the job: kernel id, descriptor address, team size (STOP_OP ends the loop)
 *   FAILED   set by a helper whose share threw (a trap); the caller reports it
 */

const SEQ = 0;
const PENDING = 1;
const OP = 2;
const DESC = 3;
const THREADS = 4;
const FAILED = 5;
export const CONTROL_INTS = 8;
export const STOP_OP = -1;

/** The kernel entry point: run `op` on the descriptor at `desc` as thread `t` of `threads`. */
export type KernelRun = (op: number, desc: number, t: number, threads: number) => void;

/** Polls of the control block before sleeping: helpers stay hot between back-to-back kernels. */
const HELPER_SPINS = 200_000;
const CALLER_SPINS = 1_000_000;

/** The control block; a plain buffer will do for a team without helpers (no SharedArrayBuffer needed). */
export function createControl(shared = true): Int32Array {
  return new Int32Array(shared ? new SharedArrayBuffer(CONTROL_INTS * 4) : new ArrayBuffer(CONTROL_INTS * 4));
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

  /** Threads that take part in a job: the caller and its helpers. */
  get size(): number {
    return this.helpers + 1;
  }

  /** Run `op` on all threads and return when every share is done. */
  dispatch(op: number, desc: number): void {
    const c = this.control;
    const threads = this.size;
    if (this.helpers === 0) {
      this.run(op, desc, 0, 1);
      return;
    }
    c[OP] = op;
    c[DESC] = desc;
    c[THREADS] = threads;
    c[FAILED] = 0;
    Atomics.store(c, PENDING, this.helpers);
    Atomics.add(c, SEQ, 1);
    Atomics.notify(c, SEQ);
    try {
      this.run(op, desc, 0, threads);
    } finally {
      this.waitForHelpers();
    }
    if (Atomics.load(c, FAILED)) throw new Error(`wasm kernel ${op} failed on a helper thread`);
  }

  private waitForHelpers(): void {
    const c = this.control;
    for (let i = 0; i < CALLER_SPINS; i++) if (Atomics.load(c, PENDING) === 0) return;
    for (;;) {
      const left = Atomics.load(c, PENDING);
      if (left === 0) return;
      if (this.canBlock) Atomics.wait(c, PENDING, left, 1000);
    }
  }

  /** Ask the helpers to leave their loop (they may be terminated afterwards anyway). */
  stop(): void {
    const c = this.control;
    c[OP] = STOP_OP;
    Atomics.add(c, SEQ, 1);
    Atomics.notify(c, SEQ);
  }
}

/** The loop a helper thread runs until STOP_OP: wait for a job, do share `id`, acknowledge. */
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
    const op = c[OP]!;
    if (op === STOP_OP) return;
    try {
      run(op, c[DESC]!, id, c[THREADS]!);
    } catch {
      Atomics.store(c, FAILED, 1);
    }
    if (Atomics.sub(c, PENDING, 1) === 1) Atomics.notify(c, PENDING);
  }
}
