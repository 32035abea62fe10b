// Entry point of the kernel module: one dispatcher that every thread calls with its share of the job.
import {
  OP_ADD,
  OP_AXPY,
  OP_GELU,
  OP_GELU_BACKWARD,
  OP_GEMM,
  OP_LAYER_NORM,
  OP_MUL,
  OP_SOFTMAX,
  OP_SOFTMAX_BACKWARD,
} from "../layout";
import { add, axpy, gelu, geluBackward, mul } from "./elementwise";
import { gemm } from "./gemm";
import { layerNorm, softmax, softmaxBackward } from "./rows";

/** Run kernel `op` on the descriptor at `desc` as thread `t` of `threads`. */
export function run(op: i32, desc: usize, t: i32, threads: i32): void {
  switch (op) {
    case OP_GEMM:
      gemm(desc, t, threads);
      break;
    case OP_SOFTMAX:
      softmax(desc, t, threads);
      break;
    case OP_SOFTMAX_BACKWARD:
      softmaxBackward(desc, t, threads);
      break;
    case OP_LAYER_NORM:
      layerNorm(desc, t, threads);
      break;
    case OP_GELU:
      gelu(desc, t, threads);
      break;
    case OP_GELU_BACKWARD:
      geluBackward(desc, t, threads);
      break;
    case OP_ADD:
      add(desc, t, threads);
      break;
    case OP_MUL:
      mul(desc, t, threads);
      break;
    case OP_AXPY:
      axpy(desc, t, threads);
      break;
  }
}
