import * as tf from "@tensorflow/tfjs";
import { ShapeError } from "@mm/core";
import { checkStateShape, decayMatricesOnly, parameterAt, splitStateName, zeroStateLike, type DecayRule, type Optimizer } from "./optimizer";

export interface AdamWOptions {
  /** Decay rate of the first moment (default 0.9). */
  beta1?: number;
  /** Decay rate of the second moment (default 0.999). */
  beta2?: number;
  /** Added to the denominator (default 1e-8). */
  eps?: number;
  /** Decoupled weight decay (default 0.01, as torch.optim.AdamW). */
  weightDecay?: number;
  /** The rule that selects the parameters with weight decay; default {@link decayMatricesOnly}. */
  decays?: DecayRule;
}

/** Moments of one parameter. */
interface Moments {
  expAvg: tf.Variable;
  expAvgSq: tf.Variable;
}

/**
 * AdamW with decoupled weight decay (Loshchilov & Hutter, "Decoupled Weight Decay
 * Regularization"), computed as PyTorch's torch.optim.AdamW does: p ← p·(1 − lr·wd), then
 * p ← p − lr · m̂ / (√v̂ + eps). State exists only for parameters that have received a gradient,
 * so frozen parameters never get moments.
 */
export class AdamW implements Optimizer {
  readonly name = "adamw";
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private readonly decays: DecayRule;
  private readonly moments = new Map<string, Moments>();
  stepCount = 0;

  constructor(
    private readonly parameters: Map<string, tf.Variable>,
    options: AdamWOptions = {},
  ) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    this.decays = options.decays ?? decayMatricesOnly;
  }

  step(grads: Record<string, tf.Tensor>, learningRate: number): void {
    this.stepCount += 1;
    const correction1 = 1 - this.beta1 ** this.stepCount;
    const correction2 = 1 - this.beta2 ** this.stepCount;
    for (const [path, gradient] of Object.entries(grads)) {
      const parameter = parameterAt(this.parameters, path, this.name);
      const moments = this.momentsOf(path, parameter);
      const decay = this.decays(path, parameter) ? this.weightDecay : 0;
      tf.tidy(() => {
        moments.expAvg.assign(tf.add(tf.mul(moments.expAvg, this.beta1), tf.mul(gradient, 1 - this.beta1)));
        moments.expAvgSq.assign(tf.add(tf.mul(moments.expAvgSq, this.beta2), tf.mul(tf.square(gradient), 1 - this.beta2)));
        const denominator = tf.add(tf.div(tf.sqrt(moments.expAvgSq), Math.sqrt(correction2)), this.eps);
        const update = tf.div(moments.expAvg, denominator);
        const decayed = decay === 0 ? parameter : tf.mul(parameter, 1 - learningRate * decay);
        parameter.assign(tf.sub(decayed, tf.mul(update, learningRate / correction1)));
      });
    }
  }

  statePaths(): string[] {
    return [...this.moments.keys()];
  }

  /** Moment tensors by name (`exp_avg.<path>`, `exp_avg_sq.<path>`), as PyTorch names them. */
  stateTensors(): Map<string, tf.Tensor> {
    const tensors = new Map<string, tf.Tensor>();
    for (const [path, moments] of this.moments) {
      tensors.set(`exp_avg.${path}`, moments.expAvg);
      tensors.set(`exp_avg_sq.${path}`, moments.expAvgSq);
    }
    return tensors;
  }

  loadState(tensors: Map<string, tf.Tensor>, stepCount: number): void {
    this.dispose();
    this.stepCount = stepCount;
    for (const [name, tensor] of tensors) {
      const { kind, path } = splitStateName(name);
      if (kind !== "exp_avg" && kind !== "exp_avg_sq") {
        throw new ShapeError(`adamw: unknown optimizer state "${name}"; expected exp_avg.<path> or exp_avg_sq.<path>`);
      }
      const parameter = parameterAt(this.parameters, path, this.name);
      checkStateShape(name, tensor, parameter);
      const moments = this.momentsOf(path, parameter);
      (kind === "exp_avg" ? moments.expAvg : moments.expAvgSq).assign(tensor);
    }
  }

  hyperparameters(): Record<string, number> {
    return { beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay };
  }

  dispose(): void {
    for (const moments of this.moments.values()) tf.dispose([moments.expAvg, moments.expAvgSq]);
    this.moments.clear();
  }

  private momentsOf(path: string, parameter: tf.Variable): Moments {
    let moments = this.moments.get(path);
    if (moments === undefined) {
      moments = { expAvg: zeroStateLike(parameter), expAvgSq: zeroStateLike(parameter) };
      this.moments.set(path, moments);
    }
    return moments;
  }
}
