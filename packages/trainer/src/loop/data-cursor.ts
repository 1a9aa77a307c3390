import { SeededRandom } from "@mm/core";

/** The saved state of a {@link DataCursor}: enough to draw exactly the same records again. */
export interface DataCursorState {
  /** The current epoch's shuffled record indices. */
  order: number[];
  /** How many records of `order` have been drawn. */
  position: number;
  /** Completed shuffles (1 during the first epoch). */
  epoch: number;
  /** The shuffling generator's state (see `SeededRandom.getState`). */
  random: { state: number; spareNormal: number | null };
}

/**
 * Draws record indices epoch by epoch, reshuffling (Fisher-Yates with a SeededRandom) whenever
 * every record has been drawn once. The state after any draw can be saved and restored.
 */
export class DataCursor {
  private order: number[] = [];
  private position = 0;
  private epoch = 0;
  private readonly random: SeededRandom;

  constructor(
    private readonly size: number,
    seed: number,
  ) {
    this.random = new SeededRandom(seed);
  }

  /** Returns the next `count` record indices, crossing into a new epoch where needed. */
  next(count: number): number[] {
    const indices: number[] = [];
    while (indices.length < count) {
      if (this.position >= this.order.length) this.reshuffle();
      indices.push(this.order[this.position++]);
    }
    return indices;
  }

  getState(): DataCursorState {
    return { order: [...this.order], position: this.position, epoch: this.epoch, random: this.random.getState() };
  }

  setState(state: DataCursorState): void {
    this.order = [...state.order];
    this.position = state.position;
    this.epoch = state.epoch;
    this.random.setState(state.random);
  }

  private reshuffle(): void {
    this.order = this.random.shuffle(Array.from({ length: this.size }, (_, i) => i));
    this.position = 0;
    this.epoch += 1;
  }
}
