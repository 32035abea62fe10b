/** xait for Node: loading and saving model folders and datasets on disk. */
export { loadModel, saveModel } from "./models/folder-node.js";
export { readDatasetFile, dataFolder } from "./train/data-node.js";
export { setupNative } from "./onnx/register-node.js";
export { compileGraph, type CompiledGraph, type GraphKind } from "./onnx/compile.js";
