/**
 * The evaluation protocols of Ali et al. (2022) and classification accuracy; the journal, shards
 * and per-sample loop every evaluation runs on. Browser-safe.
 */
export * from "./metrics.js";
export * from "./perturbation.js";
export { STEPS } from "./fractions.js";
export * from "./rationale-data.js";
export * from "./labels.js";
export * from "./run-perturbation.js";
export * from "./conservation.js";
export * from "./rationale.js";
export * from "./accuracy.js";
export * from "./timing.js";
export * from "./journal.js";
export * from "./shard.js";
export * from "./sample-loop.js";
