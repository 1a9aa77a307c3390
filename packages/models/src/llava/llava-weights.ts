import type * as tf from "@tensorflow/tfjs";
import { ShapeError } from "@mm/core";

/** The three modules a LLaVA checkpoint holds. */
export type LlavaPart = "visionTower" | "projector" | "languageModel";

/** Checkpoint tensors of each part, renamed to that module's own parameter paths. */
export type LlavaPartTensors<T = tf.Tensor> = Record<LlavaPart, Map<string, T>>;

/** A checkpoint name prefix, the part it belongs to and the prefix it gets in that module. */
type PrefixRule = readonly [checkpointPrefix: string, part: LlavaPart, modulePrefix: string];

/** transformers before 4.52: LlavaForConditionalGeneration contains the three modules directly. */
const LEGACY_RULES: PrefixRule[] = [
  ["vision_tower.", "visionTower", ""],
  ["multi_modal_projector.", "projector", ""],
  ["language_model.", "languageModel", ""],
];

/**
 * transformers 4.52 and later: a `model` (LlavaModel) with the vision tower, the projector and the
 * bare text model, and `lm_head` beside it.
 */
const CURRENT_RULES: PrefixRule[] = [
  ["model.vision_tower.", "visionTower", ""],
  ["model.multi_modal_projector.", "projector", ""],
  ["model.language_model.", "languageModel", "model."],
  ["lm_head.", "languageModel", "lm_head."],
];

/** transformers' LlavaMultiModalProjector layer names and this package's MultimodalProjector ones. */
const PROJECTOR_LAYERS: ReadonlyArray<readonly [string, string]> = [
  ["linear_1.", "projection.in_proj."],
  ["linear_2.", "projection.out_proj."],
];

/**
 * Splits a LLaVA checkpoint into its vision tower, projector and language model tensors, renamed
 * to the parameter paths of CLIPVisionModel (or the configured tower), MultimodalProjector and
 * the DecoderForCausalLM family. Reads both the layout of transformers before 4.52
 * (`vision_tower.*`, `multi_modal_projector.*`, `language_model.*`) and the later one
 * (`model.vision_tower.*`, `model.multi_modal_projector.*`, `model.language_model.*`,
 * `lm_head.*`). The tensors are moved, not copied; a name outside every part is a ShapeError.
 * Only the names are read, so the values may be anything stored by name, such as the byte ranges
 * of `readStoredTensors`.
 */
export function splitLlavaCheckpoint<T = tf.Tensor>(tensors: Map<string, T>, source: string): LlavaPartTensors<T> {
  const rules = usesCurrentLayout(tensors) ? CURRENT_RULES : LEGACY_RULES;
  const parts: LlavaPartTensors<T> = { visionTower: new Map(), projector: new Map(), languageModel: new Map() };
  const unknown: string[] = [];
  for (const [name, tensor] of tensors) {
    const rule = rules.find(([prefix]) => name.startsWith(prefix));
    if (rule === undefined) {
      unknown.push(name);
      continue;
    }
    const [prefix, part, modulePrefix] = rule;
    const local = modulePrefix + name.slice(prefix.length);
    parts[part].set(part === "projector" ? renameProjectorLayer(local) : local, tensor);
  }
  if (unknown.length > 0) {
    const expected = rules.map(([prefix]) => `${prefix}*`).join(", ");
    throw new ShapeError(`cannot load LLaVA weights from ${source}: unexpected tensors ${unknown.join(", ")}; expected only ${expected}`);
  }
  return parts;
}

/**
 * Returns the transformers name (layout before 4.52) of a MultimodalModel parameter path built by
 * `loadLlava`: `vision_encoder.module.*` -> `vision_tower.*`,
 * `vision_encoder.projector.projection.in_proj.*` -> `multi_modal_projector.linear_1.*`,
 * `language_model.*` unchanged.
 */
export function llavaCheckpointName(path: string): string {
  if (path.startsWith("vision_encoder.module.")) return `vision_tower.${path.slice("vision_encoder.module.".length)}`;
  if (path.startsWith("vision_encoder.projector.")) {
    const local = path.slice("vision_encoder.projector.".length);
    const layer = PROJECTOR_LAYERS.find(([, ours]) => local.startsWith(ours));
    if (layer !== undefined) return `multi_modal_projector.${layer[0]}${local.slice(layer[1].length)}`;
  }
  if (path.startsWith("language_model.")) return path;
  throw new ShapeError(`"${path}" is not a parameter path of a model built by loadLlava`);
}

/** The parameter path prefix of each part in a model built by `loadLlava`. */
const PART_PATHS: Record<LlavaPart, string> = {
  visionTower: "vision_encoder.module.",
  projector: "vision_encoder.projector.",
  languageModel: "language_model.",
};

/**
 * Returns the transformers name (layout before 4.52) of a tensor of one part, named as in that
 * module's own folder: `vision_model.*` of the tower -> `vision_tower.vision_model.*`,
 * `projection.in_proj.*` -> `multi_modal_projector.linear_1.*`, `model.*` of the language model
 * -> `language_model.model.*`. The inverse of splitLlavaCheckpoint for that layout.
 */
export function llavaPartTensorName(part: LlavaPart, name: string): string {
  return llavaCheckpointName(PART_PATHS[part] + name);
}

function usesCurrentLayout(tensors: Map<string, unknown>): boolean {
  return [...tensors.keys()].some((name) => name.startsWith("model.vision_tower.") || name.startsWith("model.language_model."));
}

function renameProjectorLayer(name: string): string {
  const layer = PROJECTOR_LAYERS.find(([theirs]) => name.startsWith(theirs));
  return layer === undefined ? name : layer[1] + name.slice(layer[0].length);
}
