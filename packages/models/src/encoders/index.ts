import { registerModelFamily } from "../pretrained/registry";
import { CLIPVisionModel } from "./clip-vision";
import { SiglipVisionModel } from "./siglip-vision";
import { ViTModel } from "./vit";
import { WhisperEncoder } from "./whisper-encoder";

registerModelFamily("clip_vision_model", CLIPVisionModel.fromConfig, ["CLIPVisionModel", "CLIPVisionModelWithProjection"]);
registerModelFamily("clip", CLIPVisionModel.fromConfig, ["CLIPModel"]);
registerModelFamily("siglip_vision_model", SiglipVisionModel.fromConfig, ["SiglipVisionModel"]);
registerModelFamily("siglip", SiglipVisionModel.fromConfig, ["SiglipModel"]);
registerModelFamily("vit", ViTModel.fromConfig, ["ViTModel"]);
registerModelFamily("whisper", WhisperEncoder.fromConfig, ["WhisperForConditionalGeneration"]);

export { CLIPVisionModel } from "./clip-vision";
export { SiglipVisionModel } from "./siglip-vision";
export { ViTModel } from "./vit";
export type { ViTExtraConfig } from "./vit";
export { WhisperEncoder, whisperSinusoids } from "./whisper-encoder";
export type { WhisperEncoderConfig } from "./whisper-encoder";
export { Conv1d, conv1d } from "./conv1d";
export type { Conv1dOptions } from "./conv1d";
export type { VisionConfig } from "./vision-config";
export { scaledDotProductAttention, SelfAttention } from "./attention";
