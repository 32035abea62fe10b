/** Entry point of a Node helper thread (worker_threads): instantiate the kernels, then serve jobs. */
import { parentPort, workerData } from "node:worker_threads";
import { instantiateKernels } from "./load.js";
import { helperLoop } from "./team.js";

interface HelperData {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: Int32Array;
  id: number;
}

const { module, memory, control, id } = workerData as HelperData;
const run = await instantiateKernels(module, memory);
parentPort!.postMessage("ready");
helperLoop(control, id, run);
