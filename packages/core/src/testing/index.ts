export { relativeError, assertClose } from "./closeness";
export { countLeakedTensors } from "./memory";
export { TEST_BACKENDS, useBackend } from "./backends";
export type { TestBackend } from "./backends";
export { readFloat32, readJson } from "./fixture-files";
export { gradientsOf } from "./gradients";
export { ToyEncoder, ToyLanguageModel } from "./toy-models";
