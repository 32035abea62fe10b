/**
 * What every `xait train` task shares around its training loop: the best epoch saved atomically to the
 * output folder with training.json beside it, Ctrl-C (SIGINT) or SIGTERM stopping after the current
 * step with the last complete checkpoint kept, and the exit code of an interrupted run.
 */
import { readFileSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { join, resolve } from "node:path";
import type { TransformerModel } from "../models/index.js";
import { saveModel } from "../models/folder-node.js";
import { writeFileAtomic } from "./io.js";

/** Signals that stop training after the current step, keeping the last good checkpoint. */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM"];

/** training.json: whatever the task records, plus the wall time so far and the run's status. */
export interface RunRecord {
  wallSeconds: number;
  status: string;
  bestEpoch: number;
}

export class CheckpointedRun<R extends RunRecord> {
  private interrupted: NodeJS.Signals | null = null;
  private saved = false;
  readonly out: string;
  private readonly onSignal = (signal: NodeJS.Signals) => {
    if (this.interrupted) return;
    this.interrupted = signal;
    process.stderr.write(`\n${signal}: stopping after this step\n`);
  };

  /**
   * Starts listening for the stop signals (handlers run between steps, when the trainer yields);
   * call `dispose` when training ends.
   */
  constructor(
    out: string,
    private readonly dtype: "f16" | "f32",
    readonly record: R,
    private readonly started: number,
  ) {
    this.out = resolve(out);
    for (const signal of STOP_SIGNALS) process.on(signal, this.onSignal);
  }

  /** True once a stop signal arrived: the trainer stops after the current step. */
  readonly shouldStop = (): boolean => this.interrupted !== null;

  /** training.json's text, with the wall time so far and `status`. */
  private recordJSON(status: string): string {
    this.record.wallSeconds = (Date.now() - this.started) / 1000;
    this.record.status = status;
    return JSON.stringify(this.record, null, 2) + "\n";
  }

  /** Replace the output folder atomically with `model` and training.json (status "running"). */
  save(model: TransformerModel): void {
    saveModel(model, this.out, {
      dtype: this.dtype === "f16" ? "F16" : "F32",
      extra: { "training.json": this.recordJSON("running") },
    });
    this.saved = true;
  }

  /**
   * After the training loop: records the final status beside the saved best epoch and returns the
   * exit code — 0, or for an interrupted run 128 + the signal's number, as a shell reports a process
   * killed by it. `summary` is printed for a finished run.
   */
  complete(stopped: boolean, summary: () => string): number {
    const finish = (status: string) =>
      writeFileAtomic(resolve(this.out, "training.json"), this.recordJSON(status));
    if (stopped) {
      if (this.saved) {
        finish("interrupted");
        process.stderr.write(
          `interrupted: the last good checkpoint (epoch ${this.record.bestEpoch}) is in ${this.out}\n`,
        );
      } else process.stderr.write(`interrupted before the first epoch ended: nothing saved\n`);
      return 128 + osConstants.signals[this.interrupted!];
    }
    finish("finished");
    process.stderr.write(summary());
    return 0;
  }

  /** Stops listening for the stop signals. */
  dispose(): void {
    for (const signal of STOP_SIGNALS) process.off(signal, this.onSignal);
  }
}

/**
 * The command and best validation result of the run that produced an --init model, when it was
 * trained by xait: accuracy for a classifier, perplexity for a language model.
 */
export function initTraining(
  dir: string,
): { command: string; bestValidationAccuracy?: number; bestValidationPerplexity?: number } | null {
  try {
    const t = JSON.parse(readFileSync(join(dir, "training.json"), "utf8")) as Record<string, unknown>;
    if (typeof t.command !== "string") return null;
    const accuracy = t.bestValidationAccuracy;
    const perplexity = t.bestValidationPerplexity;
    if (typeof accuracy !== "number" && typeof perplexity !== "number") return null;
    return {
      command: t.command,
      ...(typeof accuracy === "number" && t.task !== "causal-lm" ? { bestValidationAccuracy: accuracy } : {}),
      ...(typeof perplexity === "number" ? { bestValidationPerplexity: perplexity } : {}),
    };
  } catch {
    return null;
  }
}
