/**
 * Computes the modified Bessel function of the first kind, order 0, from its power series
 * sum_k ((x/2)^k / k!)^2, summed until a term no longer changes the float64 sum.
 */
export function besselI0(x: number): number {
  const quarterSquare = (x * x) / 4;
  let term = 1;
  let sum = 1;
  for (let k = 1; term > sum * Number.EPSILON; k++) {
    term *= quarterSquare / (k * k);
    sum += term;
  }
  return sum;
}

/** Returns the normalised sinc, sin(pi x) / (pi x), with sinc(0) = 1. */
export function sinc(x: number): number {
  if (x === 0) return 1;
  const angle = Math.PI * x;
  return Math.sin(angle) / angle;
}

/** A Kaiser-windowed sinc low-pass filter, described in units of the lower sampling rate. */
export interface KaiserSincFilter {
  /** Half-length of the window, in sample periods of the lower rate (resampy's num_zeros). */
  numZeros: number;
  /** Cutoff as a fraction of the lower rate's Nyquist frequency. */
  rolloff: number;
  /** Kaiser window shape parameter. */
  beta: number;
}

/**
 * Returns the filter's impulse response at `t` sample periods of the lower rate:
 * rolloff * sinc(rolloff * t) * I0(beta * sqrt(1 - (t / numZeros)^2)) / I0(beta), 0 for |t| > numZeros.
 * Its integral over t is 1, so a constant signal keeps its level.
 */
export function kaiserSinc(t: number, filter: KaiserSincFilter, i0Beta = besselI0(filter.beta)): number {
  const position = t / filter.numZeros;
  if (Math.abs(position) > 1) return 0;
  const window = besselI0(filter.beta * Math.sqrt(1 - position * position)) / i0Beta;
  return filter.rolloff * sinc(filter.rolloff * t) * window;
}

/**
 * Samples kaiserSinc at `pointsPerUnit` points per lower-rate period over [0, numZeros], for linear
 * interpolation by interpolateKaiserSinc. The filter is even, so only t >= 0 is stored.
 */
export function tabulateKaiserSinc(filter: KaiserSincFilter, pointsPerUnit: number): Float64Array {
  const i0Beta = besselI0(filter.beta);
  const table = new Float64Array(filter.numZeros * pointsPerUnit + 2);
  for (let i = 0; i < table.length; i++) table[i] = kaiserSinc(i / pointsPerUnit, filter, i0Beta);
  return table;
}

/** Returns kaiserSinc(t) linearly interpolated from a tabulateKaiserSinc table. */
export function interpolateKaiserSinc(table: Float64Array, pointsPerUnit: number, t: number): number {
  const position = Math.abs(t) * pointsPerUnit;
  const index = Math.floor(position);
  if (index >= table.length - 1) return 0;
  const fraction = position - index;
  return table[index] + fraction * (table[index + 1] - table[index]);
}
