/** The shared datasets folder for tests, and the skip message of a test whose file is missing. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { dataFolder } from "../../src/train/data-node.js";

export const DATA = dataFolder();

/** false when `file` (relative to the data folder) exists, else why the test is skipped. */
export function noData(file: string): false | string {
  return existsSync(join(DATA, file))
    ? false
    : `shared data not found: ${join(DATA, file)} (set XAIT_DATA to the data folder)`;
}
