import { InputError } from "@mm/core";
import { FLACDecoder } from "@wasm-audio-decoders/flac";

import type { DecodedAudio } from "./decoded-audio";
import { averagePlanar } from "./downmix";

/**
 * Decodes a native FLAC file (not Ogg FLAC) to mono float32 with @wasm-audio-decoders/flac, which is
 * libFLAC compiled to WebAssembly and inlined in its JavaScript, so it needs no native build step.
 * Samples are rescaled to the values soundfile (libsndfile) returns, integer / 2^(bitDepth - 1),
 * and averaged over channels.
 * @param source the file path or a description of the Buffer, for error messages.
 * NOTE: files whose frame headers take the sample rate from STREAMINFO (rate code 0) failed to
 * decode in a test with this decoder, and 32-bit FLAC is untested.
 * @throws InputError when no sample can be decoded or libFLAC reports an error (a corrupt frame).
 */
export async function decodeFlac(bytes: Buffer, source: string, file?: string): Promise<DecodedAudio> {
  const decoder = new FLACDecoder();
  await decoder.ready;
  // NOTE: on a decoding error the decoder also prints its own message to stderr with console.error.
  const decoded = await decoder.decodeFile(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)).finally(() => decoder.free());
  if (decoded.errors.length > 0 || decoded.samplesDecoded === 0) {
    const reason = decoded.errors.length > 0 ? decoded.errors[0].message : "no audio frame could be decoded";
    throw new InputError(`cannot decode FLAC file ${source}: ${reason}; the file is corrupt or truncated, so re-export it`, file);
  }
  const channels = decoded.channelData.map((channel) => rescaleToPowerOfTwo(channel, decoded.bitDepth));
  return { samples: averagePlanar(channels), sampleRate: decoded.sampleRate };
}

/**
 * Undoes the decoder's division by 2^(bitDepth - 1) - 1 (measured with @wasm-audio-decoders/flac
 * 0.2.11) and divides by 2^(bitDepth - 1) as libsndfile does. Rounding back recovers the integer
 * exactly for bit depths up to 24, because float32 has a 24-bit significand.
 */
function rescaleToPowerOfTwo(channel: Float32Array, bitDepth: number): Float32Array {
  const decoderScale = 2 ** (bitDepth - 1) - 1;
  const fullScale = 2 ** (bitDepth - 1);
  const rescaled = new Float32Array(channel.length);
  for (let i = 0; i < channel.length; i++) rescaled[i] = Math.round(channel[i] * decoderScale) / fullScale;
  return rescaled;
}
