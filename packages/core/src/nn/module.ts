import * as tf from "@tensorflow/tfjs";
import { ShapeError } from "../errors/errors";

/**
 * Base class of every model part: a tree of named parameters (tfjs variables) and child modules.
 *
 * Parameter paths join the attribute names with dots, so a module tree built with Hugging Face's
 * attribute names yields Hugging Face's state-dict keys (`model.layers.0.self_attn.q_proj.weight`).
 * Freezing sets each variable's `trainable` flag; the ops read it to skip weight gradients.
 */
export class Module {
  readonly #parameters = new Map<string, tf.Variable>();
  readonly #modules = new Map<string, Module>();

  /** Registers a parameter; the module takes ownership of `value`. */
  protected addParameter(name: string, value: tf.Tensor): tf.Variable {
    const variable = tf.variable(value, true);
    value.dispose();
    this.#parameters.set(name, variable);
    return variable;
  }

  protected addModule<M extends Module>(name: string, module: M): M {
    this.#modules.set(name, module);
    return module;
  }

  /** Every parameter with its dotted path, depth first in registration order. */
  namedParameters(prefix = ""): Array<[string, tf.Variable]> {
    const entries: Array<[string, tf.Variable]> = [];
    for (const [name, variable] of this.#parameters) entries.push([prefix + name, variable]);
    for (const [name, module] of this.#modules) entries.push(...module.namedParameters(`${prefix}${name}.`));
    return entries;
  }

  /** Every child module with its dotted path, this module first (as ""). */
  namedModules(prefix = ""): Array<[string, Module]> {
    const entries: Array<[string, Module]> = [[prefix.replace(/\.$/, ""), this]];
    for (const [name, module] of this.#modules) entries.push(...module.namedModules(`${prefix}${name}.`));
    return entries;
  }

  parameters(): tf.Variable[] {
    return this.namedParameters().map(([, variable]) => variable);
  }

  trainableParameters(): tf.Variable[] {
    return this.parameters().filter((variable) => variable.trainable);
  }

  /** True when at least one parameter is trainable. */
  isTrainable(): boolean {
    return this.parameters().some((variable) => variable.trainable);
  }

  /** Marks every parameter of this module and its children as trainable or frozen. */
  setTrainable(trainable: boolean): this {
    for (const variable of this.parameters()) variable.trainable = trainable;
    return this;
  }

  numParameters(): number {
    return this.parameters().reduce((sum, variable) => sum + variable.size, 0);
  }

  /** Parameters by dotted path; the tensors are the live variables, not copies. */
  stateDict(): Map<string, tf.Variable> {
    return new Map(this.namedParameters());
  }

  /**
   * Assigns tensors to the parameters of the same path. Throws a ShapeError listing every
   * missing, unexpected and wrongly shaped name; `allowMissing` lists paths that may be absent.
   * The caller keeps ownership of `tensors`.
   */
  loadStateDict(tensors: Map<string, tf.Tensor>, options: { allowMissing?: string[]; source?: string } = {}): void {
    const own = this.stateDict();
    const problems = compareStateDicts(own, tensors, options.allowMissing ?? []);
    if (problems.length > 0) {
      const source = options.source === undefined ? "" : ` from ${options.source}`;
      throw new ShapeError(`cannot load weights${source}:\n  ${problems.join("\n  ")}`);
    }
    for (const [name, variable] of own) {
      const tensor = tensors.get(name);
      if (tensor !== undefined) variable.assign(tensor.dtype === variable.dtype ? tensor : tensor.cast(variable.dtype));
    }
  }

  dispose(): void {
    for (const variable of this.parameters()) variable.dispose();
  }
}

function compareStateDicts(own: Map<string, tf.Variable>, loaded: Map<string, tf.Tensor>, allowMissing: string[]): string[] {
  const problems: string[] = [];
  for (const [name, variable] of own) {
    const tensor = loaded.get(name);
    if (tensor === undefined) {
      if (!allowMissing.includes(name)) problems.push(`missing: ${name} [${variable.shape}]`);
    } else if (!sameShape(tensor.shape, variable.shape)) {
      problems.push(`wrong shape: ${name} is [${tensor.shape}] in the file but the model expects [${variable.shape}]`);
    }
  }
  for (const [name, tensor] of loaded) {
    if (!own.has(name)) problems.push(`unexpected: ${name} [${tensor.shape}]`);
  }
  return problems;
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((size, i) => size === b[i]);
}

/** An indexed list of modules, named "0", "1", ... as PyTorch's nn.ModuleList. */
export class ModuleList<M extends Module> extends Module implements Iterable<M> {
  readonly items: M[];

  constructor(items: M[]) {
    super();
    this.items = items;
    items.forEach((item, i) => this.addModule(String(i), item));
  }

  get length(): number {
    return this.items.length;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}
