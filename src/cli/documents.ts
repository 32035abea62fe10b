/** Raw-text documents from a comma-separated list of files, as `xait train --task causal-lm` reads them. */
import { readTextDocuments } from "../train/data-node.js";

/** The documents of comma-separated files (text column of each row, or a whole .txt file); malformed rows skipped with a note on stderr. */
export function readDocuments(list: string, opts: { textColumn?: string; skipBadRows: boolean }): string[] {
  const docs: string[] = [];
  for (const file of list.split(",").filter(Boolean)) {
    const r = readTextDocuments(file, {
      skipBadRows: opts.skipBadRows,
      ...(opts.textColumn === undefined ? {} : { textColumn: opts.textColumn }),
    });
    if (r.skipped) process.stderr.write(`skipped ${r.skipped} malformed row(s) of ${file}\n`);
    docs.push(...r.documents);
  }
  return docs;
}
