/** The `random` baseline: i.i.d. standard normal scores from a seeded generator. */
import { Random } from "../tensor/index.js";
import type { Method } from "./context.js";

export const randomScores: Method = {
  id: "random",
  title: "Random",
  conservative: false,
  run({ batch, options }) {
    const rng = new Random(options.seed);
    return { attributions: Array.from({ length: batch.seq }, () => rng.normal()) };
  },
};
