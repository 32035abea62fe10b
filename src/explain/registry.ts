/** Every explanation method, keyed by its id (each defined in docs/METHODS.md). */
import { usageError } from "../errors.js";
import type { Method } from "./context.js";
import { attnLrp, gi, lrp, lrpAh, saliency } from "./rule-methods.js";
import { integratedGradients } from "./integrated-gradients.js";
import { occlusion } from "./occlusion.js";
import { attentionFlow, attentionLast, gae, gradRollout, rollout } from "./attention-methods.js";
import { randomScores } from "./random.js";

export const METHODS: readonly Method[] = [
  lrp,
  lrpAh,
  attnLrp,
  gi,
  saliency,
  integratedGradients,
  occlusion,
  attentionLast,
  rollout,
  attentionFlow,
  gae,
  gradRollout,
  randomScores,
];

export const METHOD_IDS: readonly string[] = METHODS.map((m) => m.id);

export function getMethod(id: string): Method {
  const m = METHODS.find((x) => x.id === id);
  if (!m) throw usageError(`unknown method '${id}' (valid: ${METHOD_IDS.join(", ")})`);
  return m;
}

/**
 * Parse a comma-separated method list: ids, "all" for every method, and "-id" to leave one out
 * (e.g. "all,-attention-flow"). Order as given (all: registry order), each id once.
 */
export function parseMethods(list: string): string[] {
  const items = list
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const chosen: string[] = [];
  const removed = new Set<string>();
  for (const item of items) {
    if (item === "all") chosen.push(...METHOD_IDS);
    else if (item.startsWith("-")) removed.add(getMethod(item.slice(1)).id);
    else chosen.push(getMethod(item).id);
  }
  const ids = [...new Set(chosen)].filter((id) => !removed.has(id));
  if (ids.length === 0) throw usageError(`no method given (valid: ${METHOD_IDS.join(", ")})`);
  return ids;
}
