// Entry point of the kernel module: one dispatcher that every thread calls with its share of the job.
import {
  OP_ADD,
  OP_AXPY,
  OP_GELU,
  OP_GELU_BACKWARD,
  OP_GEMM,
  OP_IDENTITY_BACKWARD,
  OP_LAYER_NORM,
  OP_LAYER_NORM_BACKWARD,
  OP_MUL,
  OP_RMS_NORM,
  OP_RMS_NORM_BACKWARD,
  OP_SOFTMAX,
  OP_SOFTMAX_BACKWARD,
} from "../layout";
import { add, axpy, gelu, geluBackward, identityBackward, mul } from "./elementwise";
import { gemm } from "./gemm";
import { layerNorm, layerNormBackward, rmsNorm, rmsNormBackward, softmax, softmaxBackward } from "./rows";

/**
 * Run chunk `chunk` of `chunks` of kernel `op` on the descriptor at `desc`, as thread `t` (whose
 * scratch memory it may use). Chunks are independent: any thread may run any chunk, in any order.
 */
export function run(op: i32, desc: usize, t: i32, chunk: i32, chunks: i32): void {
  switch (op) {
    case OP_GEMM:
      gemm(desc, t, chunk);
      break;
    case OP_SOFTMAX:
      softmax(desc, chunk, chunks);
      break;
    case OP_SOFTMAX_BACKWARD:
      softmaxBackward(desc, chunk, chunks);
      break;
    case OP_LAYER_NORM:
      layerNorm(desc, chunk, chunks);
      break;
    case OP_GELU:
      gelu(desc, chunk, chunks);
      break;
    case OP_GELU_BACKWARD:
      geluBackward(desc, chunk, chunks);
      break;
    case OP_ADD:
      add(desc, chunk, chunks);
      break;
    case OP_MUL:
      mul(desc, chunk, chunks);
      break;
    case OP_AXPY:
      axpy(desc, chunk, chunks);
      break;
    case OP_LAYER_NORM_BACKWARD:
      layerNormBackward(desc, chunk, chunks);
      break;
    case OP_IDENTITY_BACKWARD:
      identityBackward(desc, chunk, chunks);
      break;
    case OP_RMS_NORM:
      rmsNorm(desc, chunk, chunks);
      break;
    case OP_RMS_NORM_BACKWARD:
      rmsNormBackward(desc, chunk, chunks);
      break;
  }
}
