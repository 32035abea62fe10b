/** The registry of CLI commands. */
export interface Command {
  name: string;
  summary: string;
  help: string;
  run(argv: string[]): Promise<number>;
}

export const commands: Command[] = [];

export function registerCommand(c: Command): void {
  commands.push(c);
}
