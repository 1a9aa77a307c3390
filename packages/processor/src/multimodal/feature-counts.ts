import { ConfigError, type MultimodalModel } from "@mm/core";
import type { EncoderFeatureConfig, EncoderProcessor } from "./encoder-processor";

/** Feature rows the encoder outputs for the k-th input of a modality in a batch. */
export type NumFeatureFn = (input: unknown, index: number) => number;

/** The sources of feature counts that {@link resolveFeatureCount} tries, in order. */
export interface FeatureCountSources {
  numFeatureFns?: Readonly<Record<string, NumFeatureFn>>;
  model?: MultimodalModel;
  encoderConfigs?: Readonly<Record<string, EncoderFeatureConfig>>;
}

/**
 * Chooses how the feature rows of a modality's inputs are counted: `numFeatureFns[modality]`;
 * else the model's encoder module `featuresPerInput`; else the processor's `featureCount` for
 * `encoderConfigs[modality]`. A processor whose outputKey is `input_features` (Whisper's feature
 * extractor) counts `max_source_positions` of that config. When none applies, the returned
 * function throws, so that text without inputs of the modality still works.
 */
export function resolveFeatureCount(modality: string, processor: EncoderProcessor, sources: FeatureCountSources): NumFeatureFn {
  const given = sources.numFeatureFns?.[modality];
  if (given !== undefined) return given;

  const fromModel = sources.model?.encoders[modality]?.featuresPerInput;
  if (fromModel !== undefined) return () => fromModel;

  const encoderConfig = sources.encoderConfigs?.[modality];
  const fromProcessor = encoderConfig === undefined ? undefined : processorFeatureCount(processor, encoderConfig);
  if (fromProcessor !== undefined) return () => fromProcessor;

  return () => {
    throw new ConfigError(
      `${modality}: the number of feature rows per input is unknown; pass numFeatureFns.${modality}, a model ` +
        `whose ${modality} encoder module has a fixed featuresPerInput, or encoderConfigs.${modality} with the ` +
        `encoder's ${describeNeededField(processor)}`,
      `numFeatureFns.${modality}`,
    );
  };
}

function processorFeatureCount(processor: EncoderProcessor, encoderConfig: EncoderFeatureConfig): number | undefined {
  const count = processor.featureCount?.(encoderConfig);
  if (count !== undefined) return count;
  // NOTE: audioEncoderProcessor (src/audio) has no featureCount, so Whisper's count is keyed on its outputKey here.
  if (processor.outputKey === "input_features") return encoderConfig.max_source_positions;
  return undefined;
}

function describeNeededField(processor: EncoderProcessor): string {
  if (processor.outputKey === "input_features") return "max_source_positions";
  if (processor.outputKey === "pixel_values") return "patch_size (CLIP, SigLIP and ViT image processors)";
  return "config fields";
}
