export * from "./image/index";

export { Tokenizer } from "./tokenizer/tokenizer";
export type { TokenizerLoadOptions, EncodeOptions, DecodeOptions } from "./tokenizer/tokenizer";
export { defaultModalityToken } from "./tokenizer/modality-tokens";
export type { ModalityTokenRequest } from "./tokenizer/modality-tokens";
export type { PaddingSide } from "./tokenizer/special-tokens";
export { expandModalityTokens, expandSample } from "./text/expand-modality-tokens";
export type { ModalityFeatureCounts } from "./text/expand-modality-tokens";
export { buildBatch } from "./text/build-batch";
export type { TextSample, BatchOptions, TextBatch } from "./text/build-batch";
export { tokenizeConversation, DEFAULT_CONVERSATION_TEMPLATE } from "./text/conversation";
export type { ConversationTurn, ConversationTemplate, ConversationOptions, ConversationTokenizer } from "./text/conversation";
export { IGNORE_INDEX } from "./text/labels";

export { MultimodalProcessor } from "./multimodal/multimodal-processor";
export type { MultimodalProcessorOptions, ConversationSample, NumFeatureFn } from "./multimodal/multimodal-processor";
export { imageEncoderProcessor } from "./multimodal/encoder-processor";
export type { EncoderProcessor, ArrayTensor } from "./multimodal/encoder-processor";

export * from "./audio/index";

export type { TruncationSide } from "./tokenizer/special-tokens";
export type { ChatMessage, ChatTemplateOptions } from "./chat/chat-template";
export type { EncoderFeatureConfig } from "./multimodal/encoder-processor";
export type { ProcessorOutput } from "./multimodal/multimodal-processor";
export type { LlmInputs, ModalityCallInputs, ProcessorCallRequest } from "./multimodal/call-inputs";
