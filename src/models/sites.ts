/**
 * Rule sites: the places in a Transformer where an explanation may change the backward pass. A rule
 * set is a map from sites to rules (like a Zennit composite or an LXT patch map); the blocks of every
 * model family ask the map at each site, so a method is written once for all families and a family
 * is written once for all methods. The forward pass never changes.
 *
 * Sites and the rules each accepts:
 * - `attention.probs`    — the softmax attention probabilities: `gradient`, or `detach` (the AH-rule:
 *                          probabilities held constant, relevance flows through the values only).
 * - `attention.products` — the two products Q·Kᵀ and P·V: `gradient`, or `uniform` (AttnLRP: the
 *                          gradient leaving each product is halved, one half per operand).
 * - `norm.scale`         — LayerNorm's standard deviation / RMSNorm's root mean square: `gradient`, or
 *                          `detach` (the LN-rule: the norm becomes a linear map; LayerNorm's mean is
 *                          kept, detaching it would break conservation).
 * - `mlp.activation`     — the element-wise activation inside a block's MLP (GELU, ReLU, SiLU):
 *                          `gradient`, or `identity` (backward multiplies by act(z)/z, so relevance
 *                          passes the activation unchanged).
 * - `mlp.gate`           — the gate of a gated MLP act(gate(x)) ⊙ up(x): `gradient`, `detach` (the
 *                          gate held constant like attention weights; relevance flows through `up`
 *                          only), or `uniform` (the gradient leaving the product halved).
 * - `head.activation`    — the activation of a classifier head (BERT's pooler tanh, DistilBERT's
 *                          ReLU): `gradient` or `identity`.
 * - `linear`             — the linear layers inside the blocks: `gradient` (LRP-0) or `gamma:γ`
 *                          (LRP-γ: backward through W + γ·max(W, 0), rescaled by z/z⁺).
 */
import { usageError } from "../errors.js";

export const SITE_RULES = {
  "attention.probs": ["gradient", "detach"],
  "attention.products": ["gradient", "uniform"],
  "norm.scale": ["gradient", "detach"],
  "mlp.activation": ["gradient", "identity"],
  "mlp.gate": ["gradient", "detach", "uniform"],
  "head.activation": ["gradient", "identity"],
  linear: ["gradient", "gamma:γ"],
} as const;

export type Site = keyof typeof SITE_RULES;
export const SITES = Object.keys(SITE_RULES) as Site[];

/** A complete rule set: one rule per site (`linear` may be `gamma:<γ>`). */
export type RuleMap = Readonly<Record<Site, string>>;

/** The unmodified model: the plain gradient at every site. */
export const GRADIENT_RULES: RuleMap = Object.freeze({
  "attention.probs": "gradient",
  "attention.products": "gradient",
  "norm.scale": "gradient",
  "mlp.activation": "gradient",
  "mlp.gate": "gradient",
  "head.activation": "gradient",
  linear: "gradient",
});

/** γ of the `linear` site's rule (0 for the plain gradient). */
export function gammaOf(rules: RuleMap): number {
  const r = rules.linear;
  return r.startsWith("gamma:") ? Number(r.slice(6)) : 0;
}

/** The `linear` rule for a γ: LRP-0 (the plain gradient) for 0. */
export function linearRule(gamma: number): string {
  if (!(gamma >= 0) || !Number.isFinite(gamma))
    throw usageError(`gamma must be a finite number ≥ 0, got ${gamma}`);
  return gamma === 0 ? "gradient" : `gamma:${gamma}`;
}

function checkRule(site: Site, rule: string): string {
  if (site === "linear" && rule.startsWith("gamma:")) {
    const g = rule.slice(6);
    const v = Number(g);
    if (g.trim() === "" || !Number.isFinite(v) || v < 0 || v > 1000)
      throw usageError(`rule ${site}=${rule}: γ must be a number from 0 to 1000`);
    return linearRule(v);
  }
  if (!(SITE_RULES[site] as readonly string[]).includes(rule))
    throw usageError(`unknown rule '${rule}' for site ${site} (rules: ${SITE_RULES[site].join(", ")})`);
  return rule;
}

/** Parse `SITE=RULE` (the `--rule` flag) into a site and a checked rule. */
export function parseRuleOverride(text: string): [Site, string] {
  const eq = text.indexOf("=");
  if (eq <= 0) throw usageError(`--rule wants SITE=RULE, got '${text}' (sites: ${SITES.join(", ")})`);
  const site = text.slice(0, eq).trim();
  const rule = text.slice(eq + 1).trim();
  if (!(SITES as string[]).includes(site))
    throw usageError(`unknown rule site '${site}' (sites: ${SITES.join(", ")})`);
  return [site as Site, checkRule(site as Site, rule)];
}

/** Several `SITE=RULE` overrides, each text possibly a comma-separated list; a site given two rules is refused. */
export function parseRuleList(texts: readonly string[]): Partial<Record<Site, string>> {
  const rules: Partial<Record<Site, string>> = {};
  for (const text of texts)
    for (const item of text
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)) {
      const [site, rule] = parseRuleOverride(item);
      if (rules[site] !== undefined && rules[site] !== rule)
        throw usageError(`--rule gives site ${site} two rules`);
      rules[site] = rule;
    }
  return rules;
}

/** A rule set with some sites overridden (each override checked). */
export function withRules(base: RuleMap, overrides: Partial<Record<Site, string>> | undefined): RuleMap {
  if (!overrides) return base;
  const out: Record<Site, string> = { ...base };
  for (const [site, rule] of Object.entries(overrides)) {
    if (rule === undefined) continue;
    if (!(SITES as string[]).includes(site))
      throw usageError(`unknown rule site '${site}' (sites: ${SITES.join(", ")})`);
    out[site as Site] = checkRule(site as Site, rule);
  }
  return Object.freeze(out);
}
