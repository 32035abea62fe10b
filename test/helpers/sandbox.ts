/**
 * A child process with a capped heap that runs xait's parsers on fuzzed input, so that the contract
 * "never unbounded memory, never a hang" can be checked: an allocation past the cap ends the child
 * (a "crash" outcome, and a fresh child for the next input), and an input that keeps the child busy
 * past the watchdog is a "hang". (A worker thread with resourceLimits is not enough: V8 aborts the
 * whole process on some failed allocations.) The watchdog is a guard against a test that never
 * ends, not a speed assertion: it is a minute above any legitimate parse.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { FuzzOutcome, FuzzTarget } from "./fuzz-worker.js";

export type { FuzzOutcome, FuzzTarget };

export class Sandbox {
  private child: ChildProcess | undefined;
  private nextId = 0;

  constructor(
    private readonly heapMb = 256,
    private readonly watchdogMs = 60_000,
  ) {}

  private start(): ChildProcess {
    this.child ??= fork(fileURLToPath(new URL("./fuzz-worker.js", import.meta.url)), [], {
      execArgv: [`--max-old-space-size=${this.heapMb}`],
      serialization: "advanced",
      stdio: ["ignore", "ignore", "ignore", "ipc"],
    });
    return this.child;
  }

  run(target: FuzzTarget, input: unknown): Promise<FuzzOutcome> {
    const child = this.start();
    const id = this.nextId++;
    return new Promise((resolve) => {
      const done = (outcome: FuzzOutcome, restart: boolean) => {
        clearTimeout(timer);
        child.off("message", onMessage);
        child.off("exit", onExit);
        if (restart) {
          child.kill("SIGKILL");
          this.child = undefined;
        }
        resolve(outcome);
      };
      const onMessage = (m: { id: number; outcome: FuzzOutcome }) => {
        if (m.id === id) done(m.outcome, false);
      };
      const onExit = (code: number | null, signal: string | null) =>
        done(
          { kind: "crash", message: `the parser's process ended (${signal ?? `exit code ${code}`})` },
          true,
        );
      const timer = setTimeout(() => done({ kind: "hang" }, true), this.watchdogMs);
      child.on("message", onMessage);
      child.on("exit", onExit);
      child.send({ id, target, input });
    });
  }

  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null) {
      const ended = new Promise((resolve) => child.once("exit", resolve));
      child.kill();
      await ended;
    }
  }
}
