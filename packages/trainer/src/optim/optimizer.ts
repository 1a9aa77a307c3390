import * as tf from "@tensorflow/tfjs";
import { ShapeError } from "@mm/core";

/** The optimizers `training.optimizer` can name. */
export type OptimizerName = "adamw" | "sgd";

/**
 * An optimizer over named parameters. State exists only for parameters that have received a
 * gradient, so frozen parameters never get any, and the state round-trips through
 * `stateTensors` / `loadState` for checkpoints.
 */
export interface Optimizer {
  readonly name: OptimizerName;
  /** Updates applied so far (PyTorch's `state["step"]`). */
  stepCount: number;
  /** Applies one update from gradients keyed by parameter path; the caller keeps the gradients. */
  step(grads: Record<string, tf.Tensor>, learningRate: number): void;
  /** Paths of the parameters that have optimizer state. */
  statePaths(): string[];
  /** State tensors by name (`<kind>.<parameter path>`); they are live, not copies. */
  stateTensors(): Map<string, tf.Tensor>;
  /** Replaces the state with tensors named as `stateTensors` names them; the caller keeps `tensors`. */
  loadState(tensors: Map<string, tf.Tensor>, stepCount: number): void;
  /** The settings that define the update (betas, eps, momentum, weight decay), for trainer_state.json. */
  hyperparameters(): Record<string, number>;
  dispose(): void;
}

/** Decides which parameters get weight decay. */
export type DecayRule = (path: string, parameter: tf.Variable) => boolean;

/**
 * The default decay rule: tensors of rank ≥ 2 (weight matrices, embeddings, conv kernels) decay,
 * biases and norm weights (rank 1) do not, as in the usual transformers recipes.
 */
export const decayMatricesOnly: DecayRule = (_path, parameter) => parameter.rank >= 2;

/** Returns the parameter at `path`, or throws naming the optimizer and the path. */
export function parameterAt(parameters: Map<string, tf.Variable>, path: string, optimizer: OptimizerName): tf.Variable {
  const parameter = parameters.get(path);
  if (parameter === undefined) {
    throw new ShapeError(`${optimizer}: no parameter named "${path}"; the gradients or optimizer state belong to a different model`);
  }
  return parameter;
}

/** Splits a state tensor name `<kind>.<path>` into its kind and parameter path. */
export function splitStateName(name: string): { kind: string; path: string } {
  const dot = name.indexOf(".");
  return dot < 0 ? { kind: name, path: "" } : { kind: name.slice(0, dot), path: name.slice(dot + 1) };
}

/** Throws a ShapeError unless `tensor` has the shape of `parameter`. */
export function checkStateShape(name: string, tensor: tf.Tensor, parameter: tf.Variable): void {
  const same = tensor.shape.length === parameter.shape.length && tensor.shape.every((size, i) => size === parameter.shape[i]);
  if (!same) {
    throw new ShapeError(`optimizer state "${name}" is [${tensor.shape}] but the parameter is [${parameter.shape}]; the checkpoint belongs to a different model`);
  }
}

/** Creates a non-trainable zero variable shaped like `parameter`, for optimizer state. */
export function zeroStateLike(parameter: tf.Variable): tf.Variable {
  const zeros = tf.zerosLike(parameter);
  const state = tf.variable(zeros, false);
  zeros.dispose(); // the variable holds its own reference to the data
  return state;
}
