// Node entry of the package (the "node" condition of package.json exports; run through tsx): the
// browser-safe surface plus Dawn's runtime, model folders on disk and prediction on files.

export * from './browser';
export { createNodeGpu } from './gpu/node.node.ts';
export { createTunedNodeGpu } from './tune/runtime.node.ts';
export { loadModel, saveModel } from './train/model-files/saved-model.node.ts';
export { predictFiles, type Prediction } from './train/inference/infer.node.ts';
