import { ConfigError, InputError } from "@mm/core";
import { describe, expect, it } from "vitest";
import { expandModalityTokens, expandSample, type ModalityFeatureCounts } from "./expand-modality-tokens";

const VISION = 32000;
const AUDIO = 32001;
const TOKEN_IDS = { vision: VISION, audio: AUDIO };

function repeat(id: number, times: number): number[] {
  return new Array<number>(times).fill(id);
}

describe("expandModalityTokens", () => {
  it.each<{ name: string; ids: number[]; counts: ModalityFeatureCounts; expected: number[] }>([
    {
      name: "vision only",
      ids: [1, VISION, 13, 5618],
      counts: { vision: [3] },
      expected: [1, ...repeat(VISION, 3), 13, 5618],
    },
    {
      name: "audio only",
      ids: [1, 450, AUDIO],
      counts: { audio: [2] },
      expected: [1, 450, ...repeat(AUDIO, 2)],
    },
    {
      name: "both, several per sample, in text order",
      ids: [1, VISION, 7, AUDIO, 8, VISION, 9],
      counts: { vision: [2, 4], audio: [3] },
      expected: [1, ...repeat(VISION, 2), 7, ...repeat(AUDIO, 3), 8, ...repeat(VISION, 4), 9],
    },
    {
      name: "adjacent tokens",
      ids: [VISION, VISION],
      counts: { vision: [1, 2] },
      expected: [VISION, VISION, VISION],
    },
    {
      name: "none",
      ids: [1, 15043, 2],
      counts: {},
      expected: [1, 15043, 2],
    },
  ])("$name", ({ ids, counts, expected }) => {
    expect(expandModalityTokens(ids, TOKEN_IDS, counts, 0)).toEqual(expected);
  });

  it("leaves the input array unchanged", () => {
    const ids = [1, VISION, 2];
    expandModalityTokens(ids, TOKEN_IDS, { vision: [4] }, 0);
    expect(ids).toEqual([1, VISION, 2]);
  });

  it("more tokens than inputs names modality, sample and counts", () => {
    const call = () => expandModalityTokens([1, VISION, VISION], TOKEN_IDS, { vision: [5] }, 3);
    expect(call).toThrow(InputError);
    expect(call).toThrow(/^vision: sample 3 has 2 vision tokens \(id 32000\) in input_ids but 1 vision inputs/);
  });

  it("fewer tokens than inputs names modality, sample and counts", () => {
    const call = () => expandModalityTokens([1, AUDIO], TOKEN_IDS, { audio: [5, 5, 5] }, 7);
    expect(call).toThrow(/^audio: sample 7 has 1 audio tokens \(id 32001\) in input_ids but 3 audio inputs/);
  });

  it("token without counts is a mismatch", () => {
    expect(() => expandModalityTokens([VISION], TOKEN_IDS, {}, 0)).toThrow(/vision: sample 0 has 1 vision tokens .* but 0 vision inputs/);
  });

  it("rejects counts for an unknown modality", () => {
    const call = () => expandModalityTokens([1], { vision: VISION }, { audio: [3] }, 2);
    expect(call).toThrow(InputError);
    expect(call).toThrow(/audio: sample 2 has feature counts for audio but no token id is given for it/);
  });

  it.each([0, -1, 1.5, Number.NaN])("rejects feature count %s", (bad) => {
    expect(() => expandModalityTokens([VISION], TOKEN_IDS, { vision: [bad] }, 1)).toThrow(
      /vision: sample 1, input 0 has feature count .*; each count must be a positive integer/,
    );
  });

  it("rejects two modalities with one id", () => {
    expect(() => expandModalityTokens([1], { vision: 5, audio: 5 }, {}, 0)).toThrow(ConfigError);
  });
});

describe("expandSample", () => {
  it("masks placeholder labels", () => {
    const sample = { input_ids: [1, VISION, 319, AUDIO, 2], labels: [-100, 99, 319, 98, 2] };
    const expanded = expandSample(sample, TOKEN_IDS, { vision: [2], audio: [3] }, 0);
    expect(expanded.input_ids).toEqual([1, VISION, VISION, 319, AUDIO, AUDIO, AUDIO, 2]);
    expect(expanded.labels).toEqual([-100, -100, -100, 319, -100, -100, -100, 2]);
  });

  it("sample without labels stays without labels", () => {
    const expanded = expandSample({ input_ids: [VISION, 5] }, TOKEN_IDS, { vision: [2] }, 0);
    expect(expanded).toEqual({ input_ids: [VISION, VISION, 5] });
  });

  it("rejects labels of another length", () => {
    const call = () => expandSample({ input_ids: [1, 2, 3], labels: [1, 2] }, TOKEN_IDS, {}, 4);
    expect(call).toThrow(/sample 4: labels has 2 entries but input_ids has 3/);
  });

  it("mismatch error names the sample", () => {
    const call = () => expandSample({ input_ids: [VISION], labels: [-100] }, TOKEN_IDS, { vision: [1, 1] }, 5);
    expect(call).toThrow(/vision: sample 5 has 1 vision tokens .* but 2 vision inputs/);
  });
});
