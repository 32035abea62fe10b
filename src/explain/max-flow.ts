/** Maximum flow (Dinic's algorithm) on small graphs with real capacities — for attention flow. */
const EPS = 1e-12;

export class FlowNetwork {
  private to: number[] = [];
  private cap: number[] = [];
  private adj: number[][];

  constructor(readonly nodes: number) {
    this.adj = Array.from({ length: nodes }, () => []);
  }

  /** A directed edge u → v with capacity c (and its residual reverse edge). */
  addEdge(u: number, v: number, c: number): void {
    this.adj[u]!.push(this.to.length);
    this.to.push(v);
    this.cap.push(c);
    this.adj[v]!.push(this.to.length);
    this.to.push(u);
    this.cap.push(0);
  }

  /** Max-flow value from s to t; consumes the capacities (build a fresh network per query). */
  maxFlow(s: number, t: number): number {
    let flow = 0;
    const level = new Int32Array(this.nodes);
    const it = new Int32Array(this.nodes);
    for (;;) {
      level.fill(-1);
      level[s] = 0;
      const queue = [s];
      for (let qi = 0; qi < queue.length; qi++) {
        const u = queue[qi]!;
        for (const e of this.adj[u]!)
          if (this.cap[e]! > EPS && level[this.to[e]!] === -1) {
            level[this.to[e]!] = level[u]! + 1;
            queue.push(this.to[e]!);
          }
      }
      if (level[t] === -1) return flow;
      it.fill(0);
      for (let f = this.push(s, t, Infinity, level, it); f > EPS; f = this.push(s, t, Infinity, level, it))
        flow += f;
    }
  }

  private push(u: number, t: number, f: number, level: Int32Array, it: Int32Array): number {
    if (u === t) return f;
    const edges = this.adj[u]!;
    for (; it[u]! < edges.length; it[u]!++) {
      const e = edges[it[u]!]!;
      const v = this.to[e]!;
      if (this.cap[e]! > EPS && level[v] === level[u]! + 1) {
        const d = this.push(v, t, Math.min(f, this.cap[e]!), level, it);
        if (d > EPS) {
          this.cap[e]! -= d;
          this.cap[e ^ 1]! += d;
          return d;
        }
      }
    }
    return 0;
  }
}

/**
 * `attention-flow` (Abnar & Zuidema 2020): nodes (l, j) for l = 0..L; an edge (l, i) → (l−1, j) with
 * capacity Â_l[i][j] (Â as in rollout). For each last-layer node i, the max-flow to every input node
 * t, normalised over t to sum to 1; R_t = Σ_i of those.
 */
export function attentionFlow(residualLayers: Float64Array[], T: number): number[] {
  const L = residualLayers.length;
  const node = (l: number, j: number) => l * T + j;
  const R = new Array<number>(T).fill(0);
  for (let i = 0; i < T; i++) {
    const flows = new Array<number>(T).fill(0);
    for (let t = 0; t < T; t++) {
      const g = new FlowNetwork((L + 1) * T);
      for (let l = L; l >= 1; l--) {
        const A = residualLayers[l - 1]!;
        for (let a = 0; a < T; a++)
          for (let b = 0; b < T; b++)
            if (A[a * T + b]! > 0) g.addEdge(node(l, a), node(l - 1, b), A[a * T + b]!);
      }
      flows[t] = g.maxFlow(node(L, i), node(0, t));
    }
    const total = flows.reduce((a, b) => a + b, 0);
    for (let t = 0; t < T; t++) R[t]! += total > 0 ? flows[t]! / total : 0;
  }
  return R;
}
