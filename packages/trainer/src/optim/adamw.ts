import * as tf from "@tensorflow/tfjs";

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /**
   * Decides which parameters get weight decay. Default: tensors of rank ≥ 2 (weight matrices,
   * embeddings, conv kernels) decay; biases and norm weights (rank 1) do not, as in the usual
   * transformers recipes.
   */
  decays?: (path: string, parameter: tf.Variable) => boolean;
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
export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private readonly decays: (path: string, parameter: tf.Variable) => boolean;
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
    this.decays = options.decays ?? ((_path, parameter) => parameter.rank >= 2);
  }

  /** Applies one update from gradients keyed by parameter path; the caller keeps the gradients. */
  step(grads: Record<string, tf.Tensor>, learningRate: number): void {
    this.stepCount += 1;
    const correction1 = 1 - this.beta1 ** this.stepCount;
    const correction2 = 1 - this.beta2 ** this.stepCount;
    for (const [path, gradient] of Object.entries(grads)) {
      const parameter = this.parameterAt(path);
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

  /** Paths of the parameters that have optimizer state. */
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

  /** Restores moments saved by `stateTensors` and the step count. */
  loadState(tensors: Map<string, tf.Tensor>, stepCount: number): void {
    this.dispose();
    this.stepCount = stepCount;
    for (const [name, tensor] of tensors) {
      const [kind, ...rest] = name.split(".");
      const path = rest.join(".");
      const moments = this.momentsOf(path, this.parameterAt(path));
      (kind === "exp_avg" ? moments.expAvg : moments.expAvgSq).assign(tensor);
    }
  }

  dispose(): void {
    for (const moments of this.moments.values()) tf.dispose([moments.expAvg, moments.expAvgSq]);
    this.moments.clear();
  }

  private parameterAt(path: string): tf.Variable {
    const parameter = this.parameters.get(path);
    if (parameter === undefined) throw new Error(`AdamW: no parameter named "${path}"`);
    return parameter;
  }

  private momentsOf(path: string, parameter: tf.Variable): Moments {
    let moments = this.moments.get(path);
    if (moments === undefined) {
      moments = { expAvg: tf.variable(tf.zerosLike(parameter), false), expAvgSq: tf.variable(tf.zerosLike(parameter), false) };
      this.moments.set(path, moments);
    }
    return moments;
  }
}
