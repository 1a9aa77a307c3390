/**
 * Finds the colour that Pillow shows for transparent pixels of a GIF's first frame. Pillow opens
 * that frame in mode P, so convert("RGB") gives each transparent pixel the palette entry of the
 * transparent index, and Pillow fills the canvas outside the frame with that index too. libvips
 * returns those pixels as (0, 0, 0, 0) instead.
 *
 * @returns the RGB palette entry, or undefined when the first frame has no transparent index or
 *   the header cannot be read.
 */
export function firstFrameTransparentColour(gif: Uint8Array): [number, number, number] | undefined {
  if (gif.length < 13) return undefined;
  const globalTable = colourTable(gif, 13, gif[10]);
  let transparentIndex: number | undefined;
  let offset = 13 + (globalTable?.length ?? 0);

  while (offset < gif.length) {
    const introducer = gif[offset];
    if (introducer === 0x21) {
      const isGraphicControl = gif[offset + 1] === 0xf9 && (gif[offset + 3] & 1) === 1;
      if (isGraphicControl) transparentIndex = gif[offset + 6];
      offset = skipSubBlocks(gif, offset + 2);
    } else if (introducer === 0x2c) {
      // The first image descriptor: its local colour table, if any, replaces the global one.
      const table = colourTable(gif, offset + 10, gif[offset + 9]) ?? globalTable;
      return transparentIndex === undefined ? undefined : paletteEntry(table, transparentIndex);
    } else {
      return undefined;
    }
  }
  return undefined;
}

/** Returns the colour table at `offset` when bit 7 of `flags` is set. */
function colourTable(gif: Uint8Array, offset: number, flags: number): Uint8Array | undefined {
  if ((flags & 0x80) === 0) return undefined;
  const length = 3 * 2 ** ((flags & 7) + 1);
  return offset + length <= gif.length ? gif.subarray(offset, offset + length) : undefined;
}

/** Returns the offset after a chain of data sub-blocks, each a length byte and that many bytes. */
function skipSubBlocks(gif: Uint8Array, offset: number): number {
  let position = offset;
  while (position < gif.length && gif[position] !== 0) position += gif[position] + 1;
  return position + 1;
}

function paletteEntry(table: Uint8Array | undefined, index: number): [number, number, number] | undefined {
  if (table === undefined || 3 * index + 3 > table.length) return undefined;
  return [table[3 * index], table[3 * index + 1], table[3 * index + 2]];
}
