import type { EncoderProcessor } from "../multimodal/encoder-processor";
import type { AudioInput } from "./decoded-audio";
import type { WhisperFeatureExtractor } from "./whisper-feature-extractor";

/**
 * Adapts a WhisperFeatureExtractor for MultimodalProcessor: `audio` inputs (file paths, encoded
 * bytes or `{ samples, sampleRate }`, resampled as needed) in, `input_features`
 * float32 `[K, feature_size, nb_max_frames]` out.
 */
export function audioEncoderProcessor(extractor: WhisperFeatureExtractor): EncoderProcessor<AudioInput> {
  return {
    inputKey: "audio",
    outputKey: "input_features",
    async process(inputs) {
      const batch = await extractor.process(inputs);
      return { values: batch.input_features, shape: batch.shape };
    },
  };
}
