import * as tf from "@tensorflow/tfjs";
import { ShapeError, type EncoderInputs, type EncoderOutput } from "@mm/core";
import type { VisionFeatureSelectStrategy } from "./llava-config";

// Shape letters: K images, N rows per image (patches, plus the class token where there is one), C hidden.

/**
 * Returns a ModalEncoderModule postprocessModuleCallback that picks LLaVA's image features:
 * `hidden_states[layer]` (negative counts from the end, so -2 is the input of the last layer),
 * without its first row (the class token) for the "default" strategy, as transformers'
 * LlavaForConditionalGeneration does. The module must request hidden states
 * (`outputHiddenStates: true`). Output: float32 [K, N - 1, C] ("default") or [K, N, C] ("full").
 */
export function llavaFeatureSelector(layer: number, strategy: VisionFeatureSelectStrategy): (inputs: EncoderInputs, output: EncoderOutput) => tf.Tensor {
  return (_inputs, output) => {
    const states = output.hidden_states;
    if (states === undefined) {
      throw new ShapeError("LLaVA features: the vision encoder returned no hidden_states; build its ModalEncoderModule with outputHiddenStates: true");
    }
    const index = layer < 0 ? states.length + layer : layer;
    if (index < 0 || index >= states.length) {
      throw new ShapeError(`LLaVA features: vision_feature_layer ${layer} is outside the encoder's ${states.length} hidden states`);
    }
    const selected = states[index]; // [K, N, C]
    return strategy === "default" ? tf.slice(selected, [0, 1, 0], [-1, -1, -1]) : selected; // [K, N - 1, C] or [K, N, C]
  };
}
