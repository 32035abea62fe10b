/** Entry point of a browser helper thread (module Web Worker): instantiate the kernels, then serve jobs. */
import { instantiateKernels } from "./load.js";
import { helperLoop } from "./team.js";

interface HelperData {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: Int32Array;
  id: number;
}

interface WorkerScope {
  onmessage: ((e: { data: HelperData }) => void) | null;
  postMessage(message: unknown): void;
}

const scope = globalThis as unknown as WorkerScope;
scope.onmessage = (e) => {
  scope.onmessage = null;
  const { module, memory, control, id } = e.data;
  void instantiateKernels(module, memory).then((run) => {
    scope.postMessage("ready");
    helperLoop(control, id, run);
  });
};
