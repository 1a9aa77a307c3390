// Shape letters: B batch, K key/value heads, S cached tokens, T new tokens, D head dim.
import * as tf from "@tensorflow/tfjs";
import { ShapeError } from "@mm/core";

/**
 * One layer's keys and values from earlier forward passes, each [B, K, S, D] after rotary
 * embedding (transformers' DynamicCache entry for one layer). The cache owns its tensors: `update`
 * keeps the concatenated ones out of every tf.tidy scope and disposes those they replace.
 */
export class LayerKeyValueCache {
  private cachedKeys: tf.Tensor | undefined;
  private cachedValues: tf.Tensor | undefined;

  constructor(readonly layerIndex: number) {}

  /** [B, K, S, D], or undefined before the first update. */
  get keys(): tf.Tensor | undefined {
    return this.cachedKeys;
  }

  /** [B, K, S, D], or undefined before the first update. */
  get values(): tf.Tensor | undefined {
    return this.cachedValues;
  }

  /** Cached tokens S (0 before the first update). */
  get length(): number {
    return this.cachedKeys?.shape[2] ?? 0;
  }

  /**
   * Appends this step's keys and values, each [B, K, T, D], and returns all of them, each
   * [B, K, S + T, D]. The returned tensors belong to the cache: the next update or `dispose`
   * frees them, so the caller must not dispose them.
   */
  update(keys: tf.Tensor, values: tf.Tensor): { keys: tf.Tensor; values: tf.Tensor } {
    this.checkShape(keys);
    const nextKeys = tf.keep(this.cachedKeys === undefined ? keys.clone() : tf.concat([this.cachedKeys, keys], 2)); // [B, K, S + T, D]
    const nextValues = tf.keep(this.cachedValues === undefined ? values.clone() : tf.concat([this.cachedValues, values], 2));
    this.dispose();
    this.cachedKeys = nextKeys;
    this.cachedValues = nextValues;
    return { keys: nextKeys, values: nextValues };
  }

  /** Frees the cached tensors and empties this layer's cache. */
  dispose(): void {
    this.cachedKeys?.dispose();
    this.cachedValues?.dispose();
    this.cachedKeys = undefined;
    this.cachedValues = undefined;
  }

  private checkShape(keys: tf.Tensor): void {
    const cached = this.cachedKeys;
    if (cached === undefined) return;
    const [batch, heads, , headDim] = cached.shape;
    if (keys.rank !== 4 || keys.shape[0] !== batch || keys.shape[1] !== heads || keys.shape[3] !== headDim) {
      throw new ShapeError(
        `layer ${this.layerIndex}: new keys are [${keys.shape}] but the cache contains [${cached.shape}]; ` +
          "use a new KeyValueCache for each batch of prompts",
      );
    }
  }
}

/**
 * Keys and values of every decoder layer from earlier forward passes, so that each new token
 * only runs its own projections (transformers' DynamicCache). Create it with
 * `DecoderForCausalLM.createCache()`, pass it to every `forward` of one generation, and dispose it
 * when done. Sliding-window layers keep every past token too, and their mask hides the old ones.
 * NOTE: nothing evicts tokens that a sliding window no longer reaches, so memory grows with the
 * full sequence, as in transformers 4.40's DynamicCache.
 */
export class KeyValueCache {
  readonly layers: LayerKeyValueCache[];

  constructor(numLayers: number) {
    this.layers = Array.from({ length: numLayers }, (_, i) => new LayerKeyValueCache(i));
  }

  /**
   * Cached tokens S, read from layer 0. During a forward pass layer 0 is updated before the
   * others, so read it before the pass starts.
   */
  get length(): number {
    return this.layers[0]?.length ?? 0;
  }

  /** Batch size B of the cached tensors, or undefined while the cache is empty. */
  get batchSize(): number | undefined {
    return this.layers[0]?.keys?.shape[0];
  }

  /** Frees every cached tensor; the cache is then empty and can be reused. */
  dispose(): void {
    this.layers.forEach((layer) => layer.dispose());
  }
}
