/** The plain TypeScript reference backend: every other backend must agree with it. */
import {
  registerReferenceBackend,
  type Backend,
  type FloatArray,
  type GemmArgs,
  type GeluForm,
  type LayerNormArgs,
  type LayerNormBackwardArgs,
  type RmsNormArgs,
  type RmsNormBackwardArgs,
} from "./backend.js";
import { erf } from "./special.js";

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT2 = Math.SQRT1_2;

function gemm(p: GemmArgs): void {
  const { m, n, k, a, b, c, transA, transB, accumulate } = p;
  const bias = accumulate ? null : (p.bias ?? null);
  const row = new Float64Array(n);
  for (let bi = 0; bi < p.batch; bi++) {
    const oa = (p.offsetA ?? 0) + bi * p.strideA;
    const ob = (p.offsetB ?? 0) + bi * p.strideB;
    const oc = (p.offsetC ?? 0) + bi * p.strideC;
    for (let i = 0; i < m; i++) {
      row.fill(0);
      for (let kk = 0; kk < k; kk++) {
        const av = transA ? a[oa + kk * m + i]! : a[oa + i * k + kk]!;
        if (av === 0) continue;
        if (transB) {
          for (let j = 0; j < n; j++) row[j]! += av * b[ob + j * k + kk]!;
        } else {
          const base = ob + kk * n;
          for (let j = 0; j < n; j++) row[j]! += av * b[base + j]!;
        }
      }
      const base = oc + i * n;
      if (accumulate) for (let j = 0; j < n; j++) c[base + j]! += row[j]!;
      else if (bias) for (let j = 0; j < n; j++) c[base + j] = row[j]! + bias[j]!;
      else for (let j = 0; j < n; j++) c[base + j] = row[j]!;
    }
  }
}

function softmax(x: FloatArray, out: FloatArray, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) if (x[o + j]! > max) max = x[o + j]!;
    if (max === -Infinity) {
      // every entry masked: a uniform row rather than NaN
      for (let j = 0; j < cols; j++) out[o + j] = 1 / cols;
      continue;
    }
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      const e = Math.exp(x[o + j]! - max);
      out[o + j] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let j = 0; j < cols; j++) out[o + j]! *= inv;
  }
}

function softmaxBackward(p: FloatArray, gp: FloatArray, gx: FloatArray, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let dot = 0;
    for (let j = 0; j < cols; j++) dot += gp[o + j]! * p[o + j]!;
    for (let j = 0; j < cols; j++) gx[o + j] = p[o + j]! * (gp[o + j]! - dot);
  }
}

function layerNorm(q: LayerNormArgs): void {
  const { x, out, rows, cols, eps, weight, bias } = q;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let mu = 0;
    for (let j = 0; j < cols; j++) mu += x[o + j]!;
    mu /= cols;
    let ss = 0;
    for (let j = 0; j < cols; j++) {
      const d = x[o + j]! - mu;
      ss += d * d;
    }
    const denom =
      q.form === "bert" ? Math.sqrt(ss / cols + eps) : Math.sqrt(ss / Math.max(cols - 1, 1)) + eps;
    q.mean[r] = mu;
    q.denom[r] = denom;
    const inv = 1 / denom;
    for (let j = 0; j < cols; j++) {
      let y = (x[o + j]! - mu) * inv;
      if (weight) y *= weight[j]!;
      if (bias) y += bias[j]!;
      out[o + j] = y;
    }
  }
}

/**
 * gx of layer norm: with g = gy ⊙ weight, gx = (g − mean(g))/d − (x − μ)·Σ g(x − μ)/(k·s·d²), where
 * d is the denominator, s the std without eps and k = cols ("bert") or cols − 1 ("paper"); the mean
 * term drops with a constant mean, the last with a constant std (or s = 0).
 */
function layerNormBackward(q: LayerNormBackwardArgs): void {
  const { x, gy, gx, rows, cols, weight: w, mean, denom } = q;
  const k = q.form === "bert" ? cols : Math.max(cols - 1, 1);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const mu = mean[r]!;
    const d = denom[r]!;
    const s = q.form === "bert" ? d : d - q.eps;
    let gMean = 0;
    let gDot = 0;
    for (let j = 0; j < cols; j++) {
      const g = w ? gy[o + j]! * w[j]! : gy[o + j]!;
      gMean += g;
      gDot += g * (x[o + j]! - mu);
    }
    gMean /= cols;
    const meanTerm = q.constantMean ? 0 : gMean;
    const stdCoef = q.constantStd || s === 0 ? 0 : gDot / (k * s * d * d);
    for (let j = 0; j < cols; j++) {
      const g = w ? gy[o + j]! * w[j]! : gy[o + j]!;
      gx[o + j] = (g - meanTerm) / d - (x[o + j]! - mu) * stdCoef;
    }
  }
}

function rmsNorm(q: RmsNormArgs): void {
  const { x, out, rows, cols, weight: w, scale } = q;
  for (let row = 0; row < rows; row++) {
    const o = row * cols;
    let ss = 0;
    for (let j = 0; j < cols; j++) ss += x[o + j]! * x[o + j]!;
    const r = 1 / Math.sqrt(ss / cols + q.eps);
    scale[row] = r;
    if (w) for (let j = 0; j < cols; j++) out[o + j] = x[o + j]! * r * w[j]!;
    else for (let j = 0; j < cols; j++) out[o + j] = x[o + j]! * r;
  }
}

/** ∂r/∂x_j = −r³·x_j/cols, so gx_j = r·(g⊙w)_j − x_j·r³/cols · Σ_k (g⊙w)_k x_k. */
function rmsNormBackward(q: RmsNormBackwardArgs): void {
  const { x, gy, gx, rows, cols, weight: w, scale } = q;
  for (let row = 0; row < rows; row++) {
    const o = row * cols;
    const r = scale[row]!;
    let coef = 0;
    if (!q.constantScale) {
      let dot = 0;
      for (let j = 0; j < cols; j++) dot += (w ? gy[o + j]! * w[j]! : gy[o + j]!) * x[o + j]!;
      coef = (dot * r * r * r) / cols;
    }
    for (let j = 0; j < cols; j++) {
      const g = w ? gy[o + j]! * w[j]! : gy[o + j]!;
      gx[o + j] = g * r - x[o + j]! * coef;
    }
  }
}

function geluValue(v: number, form: GeluForm): number {
  if (form === "erf") return 0.5 * v * (1 + erf(v * INV_SQRT2));
  return 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)));
}

export function geluDerivative(v: number, form: GeluForm): number {
  if (form === "erf") {
    const cdf = 0.5 * (1 + erf(v * INV_SQRT2));
    const pdf = Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI);
    return cdf + v * pdf;
  }
  const u = SQRT_2_OVER_PI * (v + 0.044715 * v * v * v);
  const t = Math.tanh(u);
  const du = SQRT_2_OVER_PI * (1 + 3 * 0.044715 * v * v);
  return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * du;
}

export const jsBackend: Backend = {
  name: "js",
  gemm,
  softmax,
  softmaxBackward,
  layerNorm,
  layerNormBackward,
  rmsNorm,
  rmsNormBackward,
  gelu(x, out, form) {
    for (let i = 0; i < x.length; i++) out[i] = geluValue(x[i]!, form);
  },
  geluBackward(x, g, gx, form) {
    for (let i = 0; i < x.length; i++) gx[i] = g[i]! * geluDerivative(x[i]!, form);
  },
  add(a, b, out) {
    for (let i = 0; i < out.length; i++) out[i] = a[i]! + b[i]!;
  },
  mul(a, b, out) {
    for (let i = 0; i < out.length; i++) out[i] = a[i]! * b[i]!;
  },
  axpy(alpha, x, y) {
    for (let i = 0; i < y.length; i++) y[i]! += alpha * x[i]!;
  },
  identityBackward(z, y, g, gz, atZero) {
    for (let i = 0; i < gz.length; i++) {
      const zi = z[i]!;
      gz[i] = g[i]! * (zi === 0 ? atZero : y[i]! / zi);
    }
  },
};

registerReferenceBackend(jsBackend);
