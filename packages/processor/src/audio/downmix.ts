/**
 * Averages interleaved channels into mono, as librosa.to_mono (`np.mean` over channels) does.
 * Sums in float64 and rounds the mean to float32, so a mean can differ from numpy's float32
 * arithmetic by one unit in the last place.
 * @param read returns the float value of sample `index` of the interleaved stream.
 * @returns float32 `[frames]`.
 */
export function averageInterleaved(frames: number, channels: number, read: (index: number) => number): Float32Array {
  const mono = new Float32Array(frames);
  if (channels === 1) {
    for (let frame = 0; frame < frames; frame++) mono[frame] = read(frame);
    return mono;
  }
  for (let frame = 0; frame < frames; frame++) {
    let sum = 0;
    for (let channel = 0; channel < channels; channel++) sum += read(frame * channels + channel);
    mono[frame] = sum / channels;
  }
  return mono;
}

/** Averages planar channels (one array per channel, equal lengths) into mono float32 `[frames]`. */
export function averagePlanar(channelData: Float32Array[]): Float32Array {
  const frames = channelData[0].length;
  return averageInterleaved(frames, channelData.length, (index) => channelData[index % channelData.length][Math.floor(index / channelData.length)]);
}
