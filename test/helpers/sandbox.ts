/**
 * A worker thread with a capped heap and stack that runs xait's parsers on fuzzed input, so that the
 * contract "never unbounded memory, never a hang" can be checked: an allocation past the cap ends
 * the worker (a "crash" outcome, and a fresh worker for the next input), and an input that keeps
 * the worker busy past the watchdog is a "hang". The watchdog is a guard against a test that never
 * ends, not a speed assertion: it is minutes above any legitimate parse.
 */
import { Worker } from "node:worker_threads";
import type { FuzzOutcome, FuzzTarget } from "./fuzz-worker.js";

export type { FuzzOutcome, FuzzTarget };

export class Sandbox {
  private worker: Worker | undefined;
  private nextId = 0;

  constructor(
    private readonly heapMb = 512,
    private readonly watchdogMs = 60_000,
  ) {}

  private start(): Worker {
    this.worker ??= new Worker(new URL("./fuzz-worker.js", import.meta.url), {
      resourceLimits: { maxOldGenerationSizeMb: this.heapMb, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
    });
    return this.worker;
  }

  run(target: FuzzTarget, input: unknown): Promise<FuzzOutcome> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve) => {
      const done = (outcome: FuzzOutcome, restart: boolean) => {
        clearTimeout(timer);
        worker.off("message", onMessage);
        worker.off("error", onError);
        worker.off("exit", onExit);
        if (restart) {
          void worker.terminate();
          this.worker = undefined;
        }
        resolve(outcome);
      };
      const onMessage = (m: { id: number; outcome: FuzzOutcome }) => {
        if (m.id === id) done(m.outcome, false);
      };
      const onError = (e: Error) => done({ kind: "crash", message: `${e.name}: ${e.message}` }, true);
      const onExit = (code: number) =>
        done({ kind: "crash", message: `worker exited with code ${code}` }, true);
      const timer = setTimeout(() => done({ kind: "hang" }, true), this.watchdogMs);
      worker.on("message", onMessage);
      worker.on("error", onError);
      worker.on("exit", onExit);
      worker.postMessage({ id, target, input });
    });
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
    this.worker = undefined;
  }
}
