/**
 * An error the user can act on: printed as one line `error: <message>` by the CLI, without a stack
 * trace unless XAIT_DEBUG=1. `exitCode` 2 marks a usage error (bad flag, unknown method), 1 anything
 * else (unreadable file, malformed model).
 */
export class XaitError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
    this.name = "XaitError";
  }
}

/** A usage error (exit code 2). */
export function usageError(message: string): XaitError {
  return new XaitError(message, 2);
}
