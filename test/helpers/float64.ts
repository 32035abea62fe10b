/** A model's copy in Float64 (tight comparisons), optionally without any bias (norm biases included). */
import { TransformerModel } from "../../src/models/index.js";
import { Tensor } from "../../src/tensor/index.js";

export function float64(m: TransformerModel, biasFree = false): TransformerModel {
  const params = new Map<string, Tensor>();
  for (const [name, t] of m.params) {
    const d = Float64Array.from(t.data);
    if (biasFree && name.endsWith(".bias")) d.fill(0);
    params.set(name, new Tensor(d, t.shape));
  }
  return new TransformerModel(m.config, params, m.tokenizer);
}
