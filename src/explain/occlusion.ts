/**
 * Leave-one-out occlusion: R_t = f(x) − f(x with token t replaced), for every position. The
 * replacement is the tokenizer's unknown token, else its pad token, else its end-of-text token.
 */
import { XaitError } from "../errors.js";
import { replacementToken } from "../tokenize/index.js";
import { explainedValue, replicate, TOKENS_PER_CHUNK, type Method } from "./context.js";

export const occlusion: Method = {
  id: "occlusion",
  title: "Occlusion",
  conservative: true,
  run({ model, batch, target, contrast }) {
    const replacement = model.tokenizer ? replacementToken(model.tokenizer.special) : undefined;
    if (replacement === undefined)
      throw new XaitError(
        "occlusion needs a replacement token: the tokenizer has no unknown, pad or end-of-text token",
      );
    const T = batch.seq;
    const C = model.numLabels;
    // row 0: the input itself; row t + 1: position t occluded
    const valueOf = new Float64Array(T + 1);
    const chunk = Math.max(1, Math.floor(TOKENS_PER_CHUNK / T));
    for (let start = 0; start <= T; start += chunk) {
      const n = Math.min(chunk, T + 1 - start);
      const b = replicate(batch, n, (c, t) => (start + c === t + 1 ? replacement : batch.ids[t]!));
      const logits = model.predict(b);
      for (let c = 0; c < n; c++) valueOf[start + c] = explainedValue(logits.data, c * C, target, contrast);
    }
    return { attributions: Array.from({ length: T }, (_, t) => valueOf[0]! - valueOf[t + 1]!) };
  },
};
