/** Progress on stderr: a bar (cli-progress) on a TTY, a plain line every few seconds otherwise, nothing when XAIT_QUIET=1. */
import cliProgress from "cli-progress";

export interface Progress {
  update(done: number, total: number, info: string): void;
  done(): void;
}

export function createProgress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (process.env.XAIT_QUIET === "1") return { update() {}, done() {} };
  if (stream.isTTY) {
    let bar: cliProgress.SingleBar | null = null;
    return {
      update(done, total, info) {
        if (!bar) {
          bar = new cliProgress.SingleBar(
            {
              stream,
              format: `${label} [{bar}] {percentage}% {value}/{total} · {info} · eta {eta_formatted}`,
              hideCursor: true,
              clearOnComplete: true,
            },
            cliProgress.Presets.shades_classic,
          );
          bar.start(total, 0, { info });
        }
        bar.setTotal(total);
        bar.update(done, { info });
      },
      done() {
        bar?.stop();
        bar = null;
      },
    };
  }
  let last = 0;
  return {
    update(done, total, info) {
      const now = Date.now();
      if (now - last < 10_000 && done !== total) return;
      last = now;
      stream.write(`${label}: ${done}/${total} (${((100 * done) / total).toFixed(1)}%) · ${info}\n`);
    },
    done() {
      last = 0;
    },
  };
}
