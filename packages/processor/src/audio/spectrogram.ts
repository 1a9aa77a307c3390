import { FFT } from "./fft";

/** Options of logMelSpectrogram. */
export interface LogMelSpectrogramOptions {
  /** FFT length and frame length, in samples. */
  nFft: number;
  hopLength: number;
  /** float64 `[nFft / 2 + 1, numMelFilters]`, as melFilterBank returns. */
  melFilters: Float64Array;
  numMelFilters: number;
  /** Frames to return from the start; the rest are not computed. Default: every frame. */
  maxFrames?: number;
}

/** The smallest mel energy before log10, as transformers' spectrogram(mel_floor=1e-10). */
const MEL_FLOOR = 1e-10;

/**
 * Computes a log10 mel power spectrogram with the steps of transformers.audio_utils.spectrogram
 * (4.40) as WhisperFeatureExtractor calls it: reflect-pad nFft / 2 samples at each end (center=True),
 * frames of nFft samples every hopLength, a periodic Hann window, one-sided DFT of length nFft,
 * power |X|^2, mel filters, max(1e-10, mel), log10, cast to float32. All arithmetic before the cast
 * is float64, as in transformers' numpy path.
 * @param waveform float32 `[numSamples]`, longer than nFft / 2.
 * @returns float32 `[numMelFilters, numFrames]` row-major, and numFrames.
 */
export function logMelSpectrogram(waveform: Float32Array, options: LogMelSpectrogramOptions): { values: Float32Array; numFrames: number } {
  const { nFft, hopLength, numMelFilters } = options;
  const padded = reflectPad(waveform, Math.floor(nFft / 2));
  const allFrames = 1 + Math.floor((padded.length - nFft) / hopLength);
  const numFrames = Math.min(allFrames, options.maxFrames ?? allFrames);
  const powers = powerSpectra(padded, numFrames, nFft, hopLength);
  const values = applyMelFilters(powers, numFrames, Math.floor(nFft / 2) + 1, options.melFilters, numMelFilters);
  return { values, numFrames };
}

/**
 * Pads as numpy.pad(x, width, mode="reflect") does, mirroring around the first and last sample
 * without repeating them, so x[width], ..., x[1] come before x[0].
 */
export function reflectPad(samples: Float32Array, width: number): Float64Array {
  const length = samples.length;
  if (length <= width) {
    throw new RangeError(`reflect padding by ${width} samples needs more than ${width} samples, got ${length}`);
  }
  const padded = new Float64Array(length + 2 * width);
  padded.set(samples, width);
  for (let i = 1; i <= width; i++) {
    padded[width - i] = samples[i];
    padded[width + length - 1 + i] = samples[length - 1 - i];
  }
  return padded;
}

/** Returns a periodic Hann window, 0.5 - 0.5 cos(2 pi n / length), as torch.hann_window and transformers' window_function default. */
export function periodicHann(length: number): Float64Array {
  const window = new Float64Array(length);
  for (let n = 0; n < length; n++) window[n] = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / length);
  return window;
}

/**
 * Returns one-sided power spectra, float64 `[numFrames, nFft / 2 + 1]`. Two real frames go through
 * one complex FFT (frame a as the real part, frame b as the imaginary part) and are separated by
 * conjugate symmetry. The separation error in the quieter frame is about 1e-16 times the louder
 * frame's amplitude, far below the 80 dB dynamic range that Whisper keeps.
 */
function powerSpectra(padded: Float64Array, numFrames: number, nFft: number, hopLength: number): Float64Array {
  const bins = Math.floor(nFft / 2) + 1;
  const window = periodicHann(nFft);
  const fft = new FFT(nFft);
  const [inRe, inIm, outRe, outIm] = [0, 1, 2, 3].map(() => new Float64Array(nFft));
  const powers = new Float64Array(numFrames * bins);
  for (let a = 0; a < numFrames; a += 2) {
    const b = a + 1 < numFrames ? a + 1 : -1;
    for (let n = 0; n < nFft; n++) {
      inRe[n] = padded[a * hopLength + n] * window[n];
      inIm[n] = b >= 0 ? padded[b * hopLength + n] * window[n] : 0;
    }
    fft.transform(inRe, inIm, outRe, outIm);
    for (let k = 0; k < bins; k++) {
      const mirror = (nFft - k) % nFft;
      const aRe = (outRe[k] + outRe[mirror]) / 2;
      const aIm = (outIm[k] - outIm[mirror]) / 2;
      powers[a * bins + k] = aRe * aRe + aIm * aIm;
      if (b < 0) continue;
      const bRe = (outIm[k] + outIm[mirror]) / 2;
      const bIm = (outRe[mirror] - outRe[k]) / 2;
      powers[b * bins + k] = bRe * bRe + bIm * bIm;
    }
  }
  return powers;
}

/** Returns log10(max(1e-10, filters^T power)) per frame as float32 `[numMelFilters, numFrames]`. */
function applyMelFilters(
  powers: Float64Array,
  numFrames: number,
  bins: number,
  melFilters: Float64Array,
  numMelFilters: number,
): Float32Array {
  const ranges = nonZeroBinRanges(melFilters, bins, numMelFilters);
  const values = new Float32Array(numMelFilters * numFrames);
  for (let frame = 0; frame < numFrames; frame++) {
    const power = frame * bins;
    for (let mel = 0; mel < numMelFilters; mel++) {
      let energy = 0;
      for (let bin = ranges[2 * mel]; bin < ranges[2 * mel + 1]; bin++) energy += melFilters[bin * numMelFilters + mel] * powers[power + bin];
      values[mel * numFrames + frame] = Math.log10(Math.max(MEL_FLOOR, energy));
    }
  }
  return values;
}

/** Returns, for each filter, the first bin and one past the last bin where its weight is not 0. */
function nonZeroBinRanges(melFilters: Float64Array, bins: number, numMelFilters: number): Int32Array {
  const ranges = new Int32Array(2 * numMelFilters);
  for (let mel = 0; mel < numMelFilters; mel++) {
    let first = bins;
    let last = -1;
    for (let bin = 0; bin < bins; bin++) {
      if (melFilters[bin * numMelFilters + mel] === 0) continue;
      first = Math.min(first, bin);
      last = bin;
    }
    ranges[2 * mel] = first;
    ranges[2 * mel + 1] = last + 1;
  }
  return ranges;
}
