/** Frequency (Hz) where the Slaney mel scale turns from linear to logarithmic. */
const MIN_LOG_HERTZ = 1000;
/** The mel value at MIN_LOG_HERTZ: 3 mels per 200 Hz below it. */
const MIN_LOG_MEL = 15;
/** Mels per natural-log unit of frequency above 1000 Hz: 27 mels per factor 6.4. */
const MELS_PER_LOG_HERTZ = 27 / Math.log(6.4);
/** The inverse, computed as transformers computes it rather than as 1 / MELS_PER_LOG_HERTZ. */
const LOG_HERTZ_PER_MEL = Math.log(6.4) / 27;

/** Converts Hz to mels on the Slaney scale (linear below 1 kHz, logarithmic above), as librosa's htk=False. */
export function hertzToMelSlaney(hertz: number): number {
  if (hertz < MIN_LOG_HERTZ) return (3 * hertz) / 200;
  return MIN_LOG_MEL + Math.log(hertz / MIN_LOG_HERTZ) * MELS_PER_LOG_HERTZ;
}

/** Converts Slaney-scale mels back to Hz. */
export function melToHertzSlaney(mel: number): number {
  if (mel < MIN_LOG_MEL) return (200 * mel) / 3;
  return MIN_LOG_HERTZ * Math.exp(LOG_HERTZ_PER_MEL * (mel - MIN_LOG_MEL));
}

/** Options of melFilterBank, named as in transformers.audio_utils.mel_filter_bank. */
export interface MelFilterBankOptions {
  /** FFT bins from 0 Hz to samplingRate / 2, n_fft / 2 + 1 for a one-sided spectrum. */
  numFrequencyBins: number;
  numMelFilters: number;
  minFrequency: number;
  maxFrequency: number;
  samplingRate: number;
}

/**
 * Builds triangular mel filters on the Slaney mel scale with Slaney area normalisation, as
 * transformers.audio_utils.mel_filter_bank(..., norm="slaney", mel_scale="slaney") computes them
 * (transformers 4.40): filter edges evenly spaced in mels, filter i rising from edge i to edge
 * i + 1 and falling to edge i + 2, scaled by 2 / (edge i + 2 - edge i) in Hz. Bin frequencies are
 * numpy.linspace(0, floor(samplingRate / 2), numFrequencyBins).
 * @returns float64 `[numFrequencyBins, numMelFilters]`, row-major.
 */
export function melFilterBank(options: MelFilterBankOptions): Float64Array {
  const { numFrequencyBins, numMelFilters } = options;
  const edges = linspace(hertzToMelSlaney(options.minFrequency), hertzToMelSlaney(options.maxFrequency), numMelFilters + 2).map(
    melToHertzSlaney,
  );
  const binFrequencies = linspace(0, Math.floor(options.samplingRate / 2), numFrequencyBins);
  const filters = new Float64Array(numFrequencyBins * numMelFilters);
  for (let mel = 0; mel < numMelFilters; mel++) {
    const [lower, centre, upper] = [edges[mel], edges[mel + 1], edges[mel + 2]];
    const areaNorm = 2 / (upper - lower);
    for (let bin = 0; bin < numFrequencyBins; bin++) {
      const rising = (binFrequencies[bin] - lower) / (centre - lower);
      const falling = (upper - binFrequencies[bin]) / (upper - centre);
      filters[bin * numMelFilters + mel] = Math.max(0, Math.min(rising, falling)) * areaNorm;
    }
  }
  return filters;
}

/** numpy.linspace(start, stop, count): start + i * step, with the last value exactly `stop`. */
function linspace(start: number, stop: number, count: number): number[] {
  const step = (stop - start) / (count - 1);
  const values = Array.from({ length: count }, (_, i) => start + i * step);
  if (count > 1) values[count - 1] = stop;
  return values;
}
