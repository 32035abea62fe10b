/** The `xait` command line: dispatch to a command, print errors as one line, map them to exit codes. */
import { XaitError } from "../errors.js";
import { oneLine } from "../json-file.js";
import { VERSION } from "../version.js";
import { commands, type Command } from "./commands.js";
import "./explain.js";
import "./train.js";
import "./bench.js";
import "./evaluate.js";
import "./serve.js";
import "./export.js";

const USAGE = `xait ${VERSION} — explain what Transformer models base their predictions on

Usage: xait <command> [options]

Commands:
${"{commands}"}

Options:
  -h, --help     show help (also: xait <command> --help)
  -v, --version  print the version

Environment:
  XAIT_DATA      folder of the shared datasets (default ../shared/data)
  XAIT_BACKEND   native | wasm | js — native: compiled graphs in onnxruntime-node (default when installed)
  XAIT_THREADS   number of worker threads for the wasm backend
  XAIT_DEBUG=1   print stack traces on errors

Examples:
  xait explain "a gripping, funny and moving film"
  xait explain --method lrp,gi,attnlrp --json "the plot is thin"
  xait --help explain`;

export function usage(): string {
  const list = commands.map((c: Command) => `  ${c.name.padEnd(10)} ${c.summary}`).join("\n");
  return USAGE.replace("{commands}", list);
}

/**
 * A closed stdout or stderr (`xait explain --json … | head -1`) ends the run quietly with exit 0, as
 * a SIGPIPE would, instead of an unhandled EPIPE with a stack trace.
 */
function endQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  if (stream.listenerCount("error") > 0) return;
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    process.stderr.write(
      `error: ${stream === process.stdout ? "stdout" : "stderr"}: ${err.message.split("\n")[0]}\n`,
    );
    process.exit(1);
  });
}

export async function main(argv: string[]): Promise<number> {
  endQuietlyOnClosedPipe(process.stdout);
  endQuietlyOnClosedPipe(process.stderr);
  try {
    const [first, ...rest] = argv;
    if (first === undefined || first === "-h" || first === "--help" || first === "help") {
      const topic = first === undefined ? undefined : rest[0];
      const cmd = topic ? commands.find((c) => c.name === topic) : undefined;
      if (topic && !cmd)
        throw new XaitError(
          `unknown command '${topic}' (commands: ${commands.map((c) => c.name).join(", ")})`,
          2,
        );
      process.stdout.write((cmd ? cmd.help : usage()) + "\n");
      return first === undefined ? 2 : 0;
    }
    if (first === "-v" || first === "--version") {
      process.stdout.write(VERSION + "\n");
      return 0;
    }
    const cmd = commands.find((c) => c.name === first);
    if (!cmd)
      throw new XaitError(
        `unknown command '${first}' (commands: ${commands.map((c) => c.name).join(", ")}; see xait --help)`,
        2,
      );
    if (rest.includes("-h") || rest.includes("--help")) {
      process.stdout.write(cmd.help + "\n");
      return 0;
    }
    return await cmd.run(rest);
  } catch (err) {
    return reportError(err);
  }
}

/** Print an error as one line on stderr (a stack trace only with XAIT_DEBUG=1) and return its exit code. */
export function reportError(err: unknown): number {
  const debug = process.env.XAIT_DEBUG === "1";
  if (err instanceof XaitError) {
    process.stderr.write(`error: ${oneLine(err.message, 2000)}\n`);
    if (debug && err.stack) process.stderr.write(err.stack + "\n");
    return err.exitCode;
  }
  const code = (err as { code?: string } | null)?.code;
  if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS")) {
    process.stderr.write(`error: ${(err as Error).message.split("\n")[0]} (see --help)\n`);
    return 2;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`error: ${message.split("\n")[0]}\n`);
  if (debug && err instanceof Error && err.stack) process.stderr.write(err.stack + "\n");
  return 1;
}
