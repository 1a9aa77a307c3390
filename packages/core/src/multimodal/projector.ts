import type * as tf from "@tensorflow/tfjs";
import { ConfigError } from "../errors/errors";
import { getActivation, type Activation } from "../nn/activations";
import { Linear } from "../nn/linear";
import { Module } from "../nn/module";

export type ProjectionType = "linear" | "mlp";

export interface MultimodalProjectorConfig {
  inFeatures: number;
  outFeatures: number;
  projectionType?: ProjectionType;
  /** Hugging Face activation name used between the two layers of an "mlp" projection. */
  activation?: string;
  /** Whether the linear layers have biases (default true; LLaVA's `multimodal_projector_bias`). */
  bias?: boolean;
}

/** The layers of a projection; attribute names give the weight names `linear.*` or `in_proj.*`, `out_proj.*`. */
class Projection extends Module {
  readonly layers: Linear[];

  constructor(
    config: Required<MultimodalProjectorConfig>,
    private readonly activation: Activation,
  ) {
    super();
    const options = { bias: config.bias };
    if (config.projectionType === "linear") {
      this.layers = [this.addModule("linear", new Linear(config.inFeatures, config.outFeatures, options))];
    } else {
      this.layers = [
        this.addModule("in_proj", new Linear(config.inFeatures, config.outFeatures, options)),
        this.addModule("out_proj", new Linear(config.outFeatures, config.outFeatures, options)),
      ];
    }
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (this.layers.length === 1) return this.layers[0].forward(x);
    return this.layers[1].forward(this.activation(this.layers[0].forward(x)));
  }
}

/**
 * Maps encoder features into the LLM's embedding space: one linear layer, or two with an
 * activation between them (LLaVA-1.5's `mlp2x_gelu`). Weight names: `projection.linear.*`, or
 * `projection.in_proj.*` and `projection.out_proj.*`.
 */
export class MultimodalProjector extends Module {
  readonly config: Required<MultimodalProjectorConfig>;
  readonly projection: Projection;

  constructor(config: MultimodalProjectorConfig) {
    super();
    const projectionType = config.projectionType ?? "mlp";
    if (projectionType !== "linear" && projectionType !== "mlp") {
      throw new ConfigError(`projector: unknown projectionType "${projectionType}"; use "linear" or "mlp"`, "projectionType");
    }
    this.config = {
      inFeatures: config.inFeatures,
      outFeatures: config.outFeatures,
      projectionType,
      activation: config.activation ?? "gelu",
      bias: config.bias ?? true,
    };
    this.projection = this.addModule("projection", new Projection(this.config, getActivation(this.config.activation, "projector")));
  }

  get inFeatures(): number {
    return this.config.inFeatures;
  }

  get outFeatures(): number {
    return this.config.outFeatures;
  }

  /** features: [..., inFeatures] -> [..., outFeatures]. */
  forward(features: tf.Tensor): tf.Tensor {
    return this.projection.forward(features);
  }

  /** The projector's `config.json` contents (snake_case keys, as the other configs). */
  toConfigJson(): Record<string, unknown> {
    return {
      in_features: this.config.inFeatures,
      out_features: this.config.outFeatures,
      projection_type: this.config.projectionType,
      activation: this.config.activation,
      bias: this.config.bias,
    };
  }

  static fromConfigJson(json: Record<string, unknown>): MultimodalProjector {
    return new MultimodalProjector({
      inFeatures: Number(json.in_features),
      outFeatures: Number(json.out_features),
      projectionType: json.projection_type as ProjectionType,
      activation: json.activation as string,
      bias: json.bias === undefined ? true : Boolean(json.bias),
    });
  }
}
