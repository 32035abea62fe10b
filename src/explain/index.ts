export * from "./result.js";
export * from "./context.js";
export * from "./registry.js";
export * from "./explain.js";
export { lrpRules, lrpAhRules, attnLrpRules, embeddingGradient } from "./rule-methods.js";
export * as attentionMaps from "./attention-maps.js";
export { FlowNetwork, attentionFlow } from "./max-flow.js";
