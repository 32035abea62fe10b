/**
 * Integrated Gradients from the zero embedding: R_t = Σ_d E_td · (1/m) Σ_k ∂f/∂E_td(α_k E),
 * midpoint rule α_k = (k − ½)/m. The m scaled copies run as batches.
 */
import { Tensor, noGrad } from "../tensor/index.js";
import { GRADIENT_RULES } from "../models/index.js";
import { replicate, targetSeed, TOKENS_PER_CHUNK, type Method } from "./context.js";
import { tokenSums } from "./rule-methods.js";

export const integratedGradients: Method = {
  id: "ig",
  title: "Integrated Gradients",
  conservative: true,
  run({ model, batch, target, contrast, options }) {
    const m = options.steps;
    const E = noGrad(() => model.embed(batch));
    const size = E.size;
    const mean = new Float64Array(size);
    const chunk = Math.max(1, Math.floor(TOKENS_PER_CHUNK / batch.seq));
    for (let start = 0; start < m; start += chunk) {
      const n = Math.min(chunk, m - start);
      const scaled = new Float32Array(n * size);
      for (let c = 0; c < n; c++) {
        const alpha = (start + c + 0.5) / m;
        for (let i = 0; i < size; i++) scaled[c * size + i] = alpha * E.data[i]!;
      }
      const Es = new Tensor(scaled, [n, batch.seq, E.dim(-1)]).requireGrad();
      const logits = model.encode(Es, replicate(batch, n), { rules: GRADIENT_RULES });
      logits.backward(targetSeed(n, model.numLabels, target, contrast));
      for (let c = 0; c < n; c++) for (let i = 0; i < size; i++) mean[i]! += Es.grad![c * size + i]! / m;
    }
    return { attributions: tokenSums(E.data, mean, batch.seq, E.dim(-1)) };
  },
};
