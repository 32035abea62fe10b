/** Maximum flow (Dinic's algorithm) on small graphs with real capacities — for attention flow. */
const EPS = 1e-12;

/**
 * A directed network. Edges are added first; the first `maxFlow` query freezes them into flat
 * arrays (edges grouped by tail node). Queries do not change the network, so one network answers
 * many source/sink pairs.
 */
export class FlowNetwork {
  private from: number[] = [];
  private to: number[] = [];
  private capacity: number[] = [];
  private frozen?: {
    /** Edge slots of node u: start[u] … start[u+1]−1; slot 2k is edge k, 2k+1 its reverse. */
    start: Int32Array;
    slots: Int32Array;
    head: Int32Array;
    cap0: Float64Array;
  };
  private cap = new Float64Array(0);
  private level = new Int32Array(0);
  private it = new Int32Array(0);
  private queue = new Int32Array(0);

  constructor(readonly nodes: number) {}

  /** A directed edge u → v with capacity c (and its residual reverse edge). */
  addEdge(u: number, v: number, c: number): void {
    if (this.frozen) throw new Error("FlowNetwork: edges must be added before the first query");
    this.from.push(u);
    this.to.push(v);
    this.capacity.push(c);
  }

  private freeze(): NonNullable<FlowNetwork["frozen"]> {
    if (this.frozen) return this.frozen;
    const n = this.nodes;
    const m = this.from.length;
    const head = new Int32Array(2 * m);
    const cap0 = new Float64Array(2 * m);
    const degree = new Int32Array(n + 1);
    for (let k = 0; k < m; k++) {
      head[2 * k] = this.to[k]!;
      head[2 * k + 1] = this.from[k]!;
      cap0[2 * k] = this.capacity[k]!;
      degree[this.from[k]! + 1]!++;
      degree[this.to[k]! + 1]!++;
    }
    const start = new Int32Array(n + 1);
    for (let u = 0; u < n; u++) start[u + 1] = start[u]! + degree[u + 1]!;
    const fill = start.slice(0, n);
    const slots = new Int32Array(2 * m);
    for (let k = 0; k < m; k++) {
      slots[fill[this.from[k]!]!++] = 2 * k;
      slots[fill[this.to[k]!]!++] = 2 * k + 1;
    }
    this.cap = new Float64Array(2 * m);
    this.level = new Int32Array(n);
    this.it = new Int32Array(n);
    this.queue = new Int32Array(n);
    this.frozen = { start, slots, head, cap0 };
    return this.frozen;
  }

  /** Max-flow value from s to t. */
  maxFlow(s: number, t: number): number {
    const { start, slots, head, cap0 } = this.freeze();
    const { cap, level, it, queue } = this;
    cap.set(cap0);
    let flow = 0;
    for (;;) {
      level.fill(-1);
      level[s] = 0;
      queue[0] = s;
      for (let qh = 0, qt = 1; qh < qt; qh++) {
        const u = queue[qh]!;
        if (u === t) break;
        for (let k = start[u]!; k < start[u + 1]!; k++) {
          const e = slots[k]!;
          const v = head[e]!;
          if (cap[e]! > EPS && level[v] === -1) {
            level[v] = level[u]! + 1;
            queue[qt++] = v;
          }
        }
      }
      if (level[t] === -1) return flow;
      it.set(start.subarray(0, this.nodes));
      for (let f = this.push(s, t, Infinity); f > EPS; f = this.push(s, t, Infinity)) flow += f;
    }
  }

  private push(u: number, t: number, f: number): number {
    if (u === t) return f;
    const { start, slots, head } = this.frozen!;
    const { cap, level, it } = this;
    for (; it[u]! < start[u + 1]!; it[u]!++) {
      const e = slots[it[u]!]!;
      const v = head[e]!;
      if (cap[e]! > EPS && level[v] === level[u]! + 1) {
        const d = this.push(v, t, Math.min(f, cap[e]!));
        if (d > EPS) {
          cap[e]! -= d;
          cap[e ^ 1]! += d;
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
 * t, normalised over t to sum to 1; R_t = Σ_i of those — or, given `row` (a decoder's explained
 * position), that node's flows alone. One network answers all queries.
 */
export function attentionFlow(residualLayers: Float64Array[], T: number, row?: number): number[] {
  const L = residualLayers.length;
  const node = (l: number, j: number) => l * T + j;
  const g = new FlowNetwork((L + 1) * T);
  for (let l = L; l >= 1; l--) {
    const A = residualLayers[l - 1]!;
    for (let a = 0; a < T; a++)
      for (let b = 0; b < T; b++) if (A[a * T + b]! > 0) g.addEdge(node(l, a), node(l - 1, b), A[a * T + b]!);
  }
  const R = new Array<number>(T).fill(0);
  for (let i = row ?? 0; i < (row === undefined ? T : row + 1); i++) {
    const flows = new Array<number>(T).fill(0);
    for (let t = 0; t < T; t++) flows[t] = g.maxFlow(node(L, i), node(0, t));
    const total = flows.reduce((a, b) => a + b, 0);
    for (let t = 0; t < T; t++) R[t]! += total > 0 ? flows[t]! / total : 0;
  }
  return R;
}
