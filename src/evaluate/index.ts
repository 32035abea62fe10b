/** The evaluation protocols of SPEC §4 and classification accuracy. Browser-safe. */
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
