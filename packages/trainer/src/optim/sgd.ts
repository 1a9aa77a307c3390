import * as tf from "@tensorflow/tfjs";
import { ShapeError } from "@mm/core";
import { checkStateShape, decayMatricesOnly, parameterAt, splitStateName, zeroStateLike, type DecayRule, type Optimizer } from "./optimizer";

export interface SGDOptions {
  /** Momentum factor; 0 (default) is plain SGD and keeps no state. */
  momentum?: number;
  /** L2 penalty added to the gradient as `weightDecay · p` (default 0). */
  weightDecay?: number;
  /** The rule that selects the parameters with weight decay; default {@link decayMatricesOnly}. */
  decays?: DecayRule;
}

/**
 * Stochastic gradient descent as torch.optim.SGD computes it with dampening 0 and no Nesterov.
 * Each step adds the decay, g ← g + wd·p. With momentum, b ← μ·b + g (b starts at g) and
 * p ← p − lr·b. Without momentum, p ← p − lr·g.
 */
export class SGD implements Optimizer {
  readonly name = "sgd";
  readonly momentum: number;
  readonly weightDecay: number;
  private readonly decays: DecayRule;
  private readonly buffers = new Map<string, tf.Variable>();
  stepCount = 0;

  constructor(
    private readonly parameters: Map<string, tf.Variable>,
    options: SGDOptions = {},
  ) {
    this.momentum = options.momentum ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
    this.decays = options.decays ?? decayMatricesOnly;
  }

  step(grads: Record<string, tf.Tensor>, learningRate: number): void {
    this.stepCount += 1;
    for (const [path, gradient] of Object.entries(grads)) {
      const parameter = parameterAt(this.parameters, path, this.name);
      const decay = this.decays(path, parameter) ? this.weightDecay : 0;
      tf.tidy(() => {
        let direction = decay === 0 ? gradient : tf.add(gradient, tf.mul(parameter, decay));
        if (this.momentum !== 0) {
          // A zero buffer makes the first update b = g, as PyTorch's buffer initialised to g.
          const buffer = this.bufferOf(path, parameter);
          buffer.assign(tf.add(tf.mul(buffer, this.momentum), direction));
          direction = buffer;
        }
        parameter.assign(tf.sub(parameter, tf.mul(direction, learningRate)));
      });
    }
  }

  statePaths(): string[] {
    return [...this.buffers.keys()];
  }

  /** Momentum buffers by name (`momentum_buffer.<path>`), as PyTorch names them. */
  stateTensors(): Map<string, tf.Tensor> {
    return new Map([...this.buffers].map(([path, buffer]) => [`momentum_buffer.${path}`, buffer]));
  }

  loadState(tensors: Map<string, tf.Tensor>, stepCount: number): void {
    this.dispose();
    this.stepCount = stepCount;
    for (const [name, tensor] of tensors) {
      const { kind, path } = splitStateName(name);
      if (kind !== "momentum_buffer") throw new ShapeError(`sgd: unknown optimizer state "${name}"; expected momentum_buffer.<path>`);
      const parameter = parameterAt(this.parameters, path, this.name);
      checkStateShape(name, tensor, parameter);
      this.bufferOf(path, parameter).assign(tensor);
    }
  }

  hyperparameters(): Record<string, number> {
    return { momentum: this.momentum, weightDecay: this.weightDecay };
  }

  dispose(): void {
    tf.dispose([...this.buffers.values()]);
    this.buffers.clear();
  }

  private bufferOf(path: string, parameter: tf.Variable): tf.Variable {
    let buffer = this.buffers.get(path);
    if (buffer === undefined) {
      buffer = zeroStateLike(parameter);
      this.buffers.set(path, buffer);
    }
    return buffer;
  }
}
