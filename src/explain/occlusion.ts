/** Leave-one-out occlusion (SPEC §2): R_t = f(x) − f(x with token t replaced by [UNK]), every position. */
import { noGrad } from "../tensor/index.js";
import { XaitError } from "../errors.js";
import { replicate, TOKENS_PER_CHUNK, type Method } from "./context.js";

export const occlusion: Method = {
  id: "occlusion",
  title: "Occlusion",
  conservative: true,
  run({ model, batch, target }) {
    const unk = model.tokenizer?.special.unk;
    if (unk === undefined) throw new XaitError("occlusion needs the tokenizer's [UNK] token");
    const T = batch.seq;
    const C = model.numLabels;
    // row 0: the input itself; row t + 1: position t occluded
    const logitOf = new Float64Array(T + 1);
    const chunk = Math.max(1, Math.floor(TOKENS_PER_CHUNK / T));
    for (let start = 0; start <= T; start += chunk) {
      const n = Math.min(chunk, T + 1 - start);
      const b = replicate(batch, n, (c, t) => (start + c === t + 1 ? unk : batch.ids[t]!));
      const logits = noGrad(() => model.forward(b));
      for (let c = 0; c < n; c++) logitOf[start + c] = logits.data[c * C + target]!;
    }
    return { attributions: Array.from({ length: T }, (_, t) => logitOf[0]! - logitOf[t + 1]!) };
  },
};
