export { MMError, ConfigError, InputError, ShapeError, ModalityMismatchError } from "./errors/errors";
export { getLogger, setLogLevel, getLogLevel, setLogSink } from "./logging/logger";
export type { Logger, LogLevel, LogSink } from "./logging/logger";

export { initBackend, backendReport, backendFromEnvironment, parseBackendRequest, BACKEND_REQUESTS } from "./backend/init-backend";
export type { BackendRequest, BackendReport, BackendAttempt, BackendOptions } from "./backend/init-backend";
export { MAX_WASM_THREADS, defaultWasmThreads, parseWasmThreads, wasmThreadsFromEnvironment } from "./backend/wasm-threads";
export { findNativePackage } from "./backend/native-addon";
export type { NativePackageStatus } from "./backend/native-addon";

export { SeededRandom, globalRandom, manualSeed, randomNormalTensor } from "./random/seeded-random";

export { Module, ModuleList } from "./nn/module";
export { Linear } from "./nn/linear";
export type { LinearOptions } from "./nn/linear";
export { Embedding } from "./nn/embedding";
export { LayerNorm, RMSNorm } from "./nn/norms";
export { ACTIVATIONS, getActivation } from "./nn/activations";
export type { Activation } from "./nn/activations";

export { matMul, transposeLastTwo } from "./ops/mat-mul";
export { linear, isTrainable } from "./ops/linear";
export { gatherRows } from "./ops/gather-rows";
export { extractPatches, patchEmbedding } from "./ops/patch-embedding";
export { causalLmLoss, causalLmLossAtTrainedPositions, tokenCrossEntropy, shiftLabels, countTrainedTokens, IGNORE_INDEX } from "./ops/cross-entropy";
export type { CrossEntropyOptions } from "./ops/cross-entropy";
export { injectFeatures, maskModalityIds } from "./ops/inject-features";
export type { ModalityFeatures } from "./ops/inject-features";

export { readSafetensors, readSafetensorsHeader, writeSafetensors, MAX_HEADER_BYTES } from "./io/safetensors";
export type { SafetensorsEntry, SafetensorsWriteEntry } from "./io/safetensors";
export { readTensors, toWriteEntries, loadModuleWeights, saveModuleWeights } from "./io/module-weights";
export { float16ToFloat32, bfloat16ToFloat32 } from "./io/half-precision";

export type { EncoderOutput, ModalityEncoder, CausalLanguageModel, LanguageModelInputs, LanguageModelOutput } from "./multimodal/contracts";
export { MultimodalProjector } from "./multimodal/projector";
export type { MultimodalProjectorConfig, ProjectionType } from "./multimodal/projector";
export { ModalEncoderModule } from "./multimodal/modal-encoder-module";
export type { ModalEncoderModuleOptions, EncoderInputs, ProjectorModule } from "./multimodal/modal-encoder-module";
export { MultimodalModel } from "./multimodal/multimodal-model";
export type { MultimodalBatch, MultimodalModelOptions, PrecomputedFeatures, ForwardOptions } from "./multimodal/multimodal-model";
export { resolveEncoderModes } from "./multimodal/freeze-modes";
export type { EncoderModes, TrainModes } from "./multimodal/freeze-modes";
export { registerMultimodalLoader, registeredMultimodalTypes, loadMultimodalPretrained } from "./multimodal/multimodal-loaders";
export type { MultimodalLoader } from "./multimodal/multimodal-loaders";
