export * from "./result.js";
export * from "./context.js";
export * from "./registry.js";
export * from "./explain.js";
export { LRP_RULES, LRP_AH_RULES, ATTNLRP_RULES, embeddingGradient, rulesFor } from "./rule-methods.js";
export * as attentionMaps from "./attention-maps.js";
export { FlowNetwork, attentionFlow } from "./max-flow.js";
export { generate, MAX_GENERATED, type Generation } from "./generate.js";
