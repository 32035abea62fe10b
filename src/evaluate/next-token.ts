/**
 * Samples for explaining a language model's next token on held-out text: every document cut into
 * consecutive windows of `length + 1` tokens; the first `length` are the input, the last is the
 * true next token, the target explained. Windows never cross a document boundary (so no
 * end-of-text token sits inside an input), and a document's last, partial window is dropped.
 * Browser-safe.
 */
import { XaitError } from "../errors.js";

export interface NextTokenWindow {
  /** Input token ids (`length` of them). */
  ids: number[];
  /** The token that follows them in the document. */
  target: number;
  /** Index of the document the window comes from. */
  document: number;
}

export function nextTokenWindows(
  documents: readonly (readonly number[])[],
  length: number,
): NextTokenWindow[] {
  if (!Number.isInteger(length) || length < 1)
    throw new XaitError(`a next-token window needs at least 1 input token, got ${length}`);
  const out: NextTokenWindow[] = [];
  documents.forEach((doc, document) => {
    for (let from = 0; from + length + 1 <= doc.length; from += length + 1)
      out.push({ ids: doc.slice(from, from + length), target: doc[from + length]!, document });
  });
  return out;
}
