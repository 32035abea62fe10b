/** Attention-based methods on hand-made attention matrices, and max-flow on a known graph. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { attentionMaps as M, FlowNetwork, attentionFlow } from "../src/explain/index.js";

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-12) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `[${i}] ${a[i]} vs ${b[i]}`);
};

// two heads, T = 2
const P1 = [1, 0, 0.5, 0.5, /* head 2 */ 0, 1, 0.5, 0.5];
const P2 = [0.5, 0.5, 1, 0, /* head 2 */ 0.5, 0.5, 0, 1];

test("attention-last: column sums per head, averaged over heads", () => {
  // mean over heads of P2 = [[0.5,0.5],[0.5,0.5]] → column sums [1, 1]
  close(M.attentionLast(P2, 2, 2), [1, 1]);
  // mean of P1 = [[0.5,0.5],[0.5,0.5]] too; a single-head case: [[0.9,0.1],[0.2,0.8]] → [1.1, 0.9]
  close(M.attentionLast([0.9, 0.1, 0.2, 0.8], 1, 2), [1.1, 0.9]);
});

test("rollout: Â = rownorm(mean_heads(P) + I), J = Â_L ⋯ Â_1, R_t = Σ_i J_it", () => {
  // single head, A1 = [[0.9,0.1],[0.2,0.8]] → Â1 = [[0.95,0.05],[0.1,0.9]];
  // A2 = [[0,1],[1,0]] → Â2 = [[0.5,0.5],[0.5,0.5]]; J = Â2·Â1 = [[0.525,0.475],[0.525,0.475]]
  close(
    M.rollout(
      [
        [0.9, 0.1, 0.2, 0.8],
        [0, 1, 1, 0],
      ],
      1,
      2,
    ),
    [1.05, 0.95],
  );
  // with one layer, J = Â1: column sums [1.05, 0.95]
  close(M.rollout([[0.9, 0.1, 0.2, 0.8]], 1, 2), [1.05, 0.95]);
});

test("gae: R ← R + Ā·R with Ā = mean_heads(max(∇P ⊙ P, 0)); [CLS] row, own entry zeroed", () => {
  // one head, T = 2: P = [[0.5,0.5],[0.25,0.75]], ∇P = [[2,-1],[4,1]] → ∇P⊙P = [[1,-0.5],[1,0.75]] → Ā = [[1,0],[1,0.75]]
  // R = I + Ā = [[2,0],[1,1.75]]; second layer same: R ← R + Ā·R = [[2,0],[1,1.75]] + [[2,0],[2.75,1.3125]] = [[4,0],[3.75,3.0625]]
  const P = [0.5, 0.5, 0.25, 0.75];
  const G = [2, -1, 4, 1];
  close(M.gae([P], [G], 1, 2), [0, 0]);
  close(M.gae([P, P], [G, G], 1, 2), [0, 0]);
  // make the [CLS] row non-trivial: ∇P = [[2,4],[4,1]] → Ā = [[1,2],[1,0.75]]; R = I + Ā = [[2,2],[1,1.75]] → scores [0, 2]
  close(M.gae([P], [[2, 4, 4, 1]], 1, 2), [0, 2]);
});

test("grad-rollout: rollout of the Ā_l, J_00 = 0, R_t = Σ_i J_it", () => {
  // Ā = [[1,2],[1,0.75]] → Â = rownorm(Ā + I) = [[0.5,0.5],[1/2.75, 1.75/2.75]]; J = Â; J_00 = 0
  const a = 1 / 2.75;
  close(M.gradRollout([[0.5, 0.5, 0.25, 0.75]], [[2, 4, 4, 1]], 1, 2), [0 + a, 0.5 + 1.75 * a], 1e-12);
});

test("heads are averaged before rollout", () => {
  // mean of P1's heads = [[0.5,0.5],[0.5,0.5]] → Â = [[0.75,0.25],[0.25,0.75]] → columns [1, 1]
  close(M.rollout([P1], 2, 2), [1, 1]);
});

test("max-flow: a textbook network with a known value", () => {
  // CLRS figure 26.1: max flow 23
  const g = new FlowNetwork(6);
  const edges: [number, number, number][] = [
    [0, 1, 16],
    [0, 2, 13],
    [1, 3, 12],
    [2, 1, 4],
    [2, 4, 14],
    [3, 2, 9],
    [3, 5, 20],
    [4, 3, 7],
    [4, 5, 4],
  ];
  for (const [u, v, c] of edges) g.addEdge(u, v, c);
  assert.ok(Math.abs(g.maxFlow(0, 5) - 23) < 1e-12);
  assert.ok(Math.abs(g.maxFlow(0, 5) - 23) < 1e-12, "a query leaves the network unchanged");
  assert.ok(Math.abs(g.maxFlow(2, 3) - 11) < 1e-12, "2→1→3 (4) and 2→4→3 (7)");
});

/** Edmonds–Karp on a dense capacity matrix: the reference for random networks. */
function referenceMaxFlow(cap: number[][], s: number, t: number): number {
  const n = cap.length;
  const r = cap.map((row) => row.slice());
  let flow = 0;
  for (;;) {
    const prev = new Array<number>(n).fill(-1);
    prev[s] = s;
    const queue = [s];
    for (let q = 0; q < queue.length && prev[t] === -1; q++)
      for (let v = 0; v < n; v++)
        if (prev[v] === -1 && r[queue[q]!]![v]! > 1e-12) {
          prev[v] = queue[q]!;
          queue.push(v);
        }
    if (prev[t] === -1) return flow;
    let f = Infinity;
    for (let v = t; v !== s; v = prev[v]!) f = Math.min(f, r[prev[v]!]![v]!);
    for (let v = t; v !== s; v = prev[v]!) {
      r[prev[v]!]![v]! -= f;
      r[v]![prev[v]!]! += f;
    }
    flow += f;
  }
}

test("max-flow: random layered networks against Edmonds–Karp, many queries on one network", () => {
  let seed = 5;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let trial = 0; trial < 5; trial++) {
    const T = 5;
    const L = 3;
    const n = (L + 1) * T;
    const cap = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    const g = new FlowNetwork(n);
    for (let l = L; l >= 1; l--)
      for (let a = 0; a < T; a++)
        for (let b = 0; b < T; b++) {
          const c = rnd() < 0.3 ? 0 : rnd();
          if (c > 0) {
            g.addEdge(l * T + a, (l - 1) * T + b, c);
            cap[l * T + a]![(l - 1) * T + b] = c;
          }
        }
    for (let i = 0; i < T; i++)
      for (let t = 0; t < T; t++) {
        const want = referenceMaxFlow(cap, L * T + i, t);
        assert.ok(Math.abs(g.maxFlow(L * T + i, t) - want) < 1e-9, `trial ${trial}: ${i} → ${t}`);
      }
  }
});

test("attention-flow: per output node, max-flows to every input node normalised to 1, summed", () => {
  // one layer: flow from output i to input t is capacity Â[i][t] (a single edge), normalised per row (rows of Â sum to 1)
  const A = M.withResidual(Float64Array.from([0.9, 0.1, 0.2, 0.8]), 2);
  close(attentionFlow([A], 2), [0.95 + 0.1, 0.05 + 0.9]);
  // two layers, T = 2, Â2 = [[0.5,0.5],[0.5,0.5]], Â1 = [[0.95,0.05],[0.1,0.9]]:
  // from output 0 to input 0: paths via node (1,0) min(0.5, 0.95) + via (1,1) min(0.5, 0.1) = 0.6; to input 1: min(.5,.05)+min(.5,.9) = 0.55
  const B = M.withResidual(Float64Array.from([0, 1, 1, 0]), 2);
  const r = attentionFlow([A, B], 2);
  close(r, [2 * (0.6 / 1.15), 2 * (0.55 / 1.15)], 1e-12);
});
