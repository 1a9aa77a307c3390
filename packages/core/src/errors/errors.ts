/**
 * Error classes shared by every mm package. Each carries the fields a caller needs to react
 * (file, key, modality, sample) besides a message that already names them.
 */
export class MMError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Invalid configuration: an unknown key, a wrong type or a value out of range. */
export class ConfigError extends MMError {
  constructor(
    message: string,
    readonly key?: string,
    readonly file?: string,
  ) {
    super(message);
  }
}

/** An input file or record that cannot be used: missing, corrupt or of an unsupported format. */
export class InputError extends MMError {
  constructor(
    message: string,
    readonly file?: string,
  ) {
    super(message);
  }
}

/** Tensor shapes that do not fit together, such as weights that do not match a config. */
export class ShapeError extends MMError {}

/** The placeholder count of a modality in one sample differs from the encoder's feature rows. */
export class ModalityMismatchError extends MMError {
  constructor(
    readonly modality: string,
    readonly sample: number,
    readonly placeholders: number,
    readonly featureRows: number,
    tokenName = "placeholder",
  ) {
    super(
      `${modality}: sample ${sample} has ${placeholders} ${tokenName} tokens but the encoder produced ` +
        `${featureRows} feature rows for it; check that every ${modality} token in the text has an input ` +
        `and that the processor expanded it to the encoder's feature count`,
    );
  }
}
