/**
 * The job descriptor that the loader writes into WebAssembly memory and the kernels read: one i32 (or
 * f32) per slot, slot i at byte offset 4·i. This file is compiled twice — by tsc for the loader and by
 * AssemblyScript for the kernels — so it holds integer constants only.
 */

/** Kernel ids understood by the `run(op, desc, thread, chunk, chunks)` export. */
export const OP_GEMM = 1;
export const OP_SOFTMAX = 2;
export const OP_SOFTMAX_BACKWARD = 3;
export const OP_LAYER_NORM = 4;
export const OP_GELU = 5;
export const OP_GELU_BACKWARD = 6;
export const OP_ADD = 7;
export const OP_MUL = 8;
export const OP_AXPY = 9;
export const OP_LAYER_NORM_BACKWARD = 10;
export const OP_IDENTITY_BACKWARD = 11;
export const OP_RMS_NORM = 12;
export const OP_RMS_NORM_BACKWARD = 13;

/** Bytes reserved for one descriptor. */
export const DESC_BYTES = 128;

/** GEMM: pointers are byte addresses; strides are in elements. */
export const G_M = 0;
export const G_N = 1;
export const G_K = 2;
export const G_A = 3;
export const G_B = 4;
export const G_C = 5;
export const G_TRANS_A = 6;
export const G_TRANS_B = 7;
export const G_ACCUMULATE = 8;
export const G_STRIDE_A = 10;
export const G_STRIDE_B = 11;
export const G_STRIDE_C = 12;
/** Per-thread scratch (packed panels): thread t uses [scratch + t·scratchStride, …). */
export const G_SCRATCH = 13;
export const G_SCRATCH_STRIDE = 14;
/** The chunks of a GEMM are tiles of C of tileM rows × tileN columns, product after product. */
export const G_TILE_M = 15;
export const G_TILE_N = 16;
/** Address of a bias added to every row of C when it is overwritten (0: none). */
export const G_BIAS = 17;

/** Row-wise and element-wise kernels. */
export const E_X = 0;
export const E_Y = 1;
export const E_OUT = 2;
/** Number of elements (element-wise) or rows (row-wise). */
export const E_LEN = 3;
export const E_COLS = 4;
/** GELU form: 0 = erf, 1 = tanh. */
export const E_FORM = 5;
/** f64 slot (slots 6–7): axpy's alpha. */
export const E_ALPHA = 6;

/** Layer norm: E_X, E_OUT, E_LEN (rows), E_COLS and these. */
export const L_WEIGHT = 8;
export const L_BIAS = 9;
export const L_MEAN = 10;
export const L_DENOM = 11;
/** 0 = "bert" (√(biased var + eps)), 1 = "paper" (unbiased std + eps). */
export const L_FORM = 12;
/** f64 slot (slots 14–15). */
export const L_EPS = 14;
/** Layer norm backward: E_X (x), E_Y (gy), E_OUT (gx), E_LEN, E_COLS, L_WEIGHT, L_MEAN, L_DENOM,
 * L_FORM, L_EPS and flags: bit 0 = std held constant, bit 1 = mean held constant. */
export const L_FLAGS = 16;

/**
 * RMS norm: E_X, E_OUT, E_LEN (rows), E_COLS, L_WEIGHT, L_EPS and the float64 scale per row; its
 * backward: E_X (x), E_Y (gy), E_OUT (gx), E_LEN, E_COLS, L_WEIGHT, R_SCALE and L_FLAGS (bit 0 = scale
 * held constant).
 */
export const R_SCALE = 10;

/** Identity-rule backward: E_X (z), E_Y (y), E_OUT (gz), E_LEN, E_ALPHA (the ratio at z = 0) and g. */
export const I_G = 9;

/**
 * GEMM blocking: MR×NR register tile, MC×KC block of A (packed with every value splatted, 16 bytes
 * each), KC×NC block of B. Per-thread scratch in bytes: packed A + packed B + an edge tile.
 */
export const GEMM_MR = 4;
export const GEMM_NR = 8;
export const GEMM_MC = 64;
export const GEMM_KC = 256;
export const GEMM_NC = 1024;
export const GEMM_SCRATCH_BYTES = (4 * GEMM_MC * GEMM_KC + GEMM_KC * GEMM_NC + GEMM_MR * GEMM_NR) * 4 + 256;
