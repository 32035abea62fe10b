/**
 * The perturbation fractions of the protocols: 0, 0.1, …, 1.0, each computed as k/10 from an integer k
 * (never by accumulating 0.1, which drifts: 0.1+0.2 ≠ 0.3), and the token count at each.
 */
import { XaitError } from "../errors.js";

/** Number of perturbation steps after the unperturbed one; fractions are k/STEPS, k = 0..STEPS. */
export const STEPS = 10;

/** [0, 0.1, 0.2, …, 1.0], entry k = k/10 exactly as the division rounds it. */
export const FRACTIONS: number[] = Array.from({ length: STEPS + 1 }, (_, k) => k / STEPS);

/**
 * n = ⌈k·N/10⌉ tokens at fraction k/10, in integer arithmetic so that no float error can push a
 * whole product (e.g. 3·10/10) up by one: ⌈a/b⌉ = ⌊(a + b − 1)/b⌋ for a ≥ 0.
 */
export function tokensAt(k: number, N: number): number {
  if (!Number.isInteger(k) || k < 0 || k > STEPS)
    throw new XaitError(`fraction step ${k} is not an integer 0..${STEPS}`);
  if (!Number.isInteger(N) || N < 0) throw new XaitError(`token count ${N} is not a non-negative integer`);
  return Math.floor((k * N + STEPS - 1) / STEPS);
}
