import { ConfigError, InputError } from "@mm/core";
import { describe, expect, it } from "vitest";
import { buildBatch } from "./build-batch";

const PAD = 2;
const VISION = 32000;

describe("buildBatch", () => {
  const samples = [
    { input_ids: [1, 10, 11], labels: [-100, 10, 11] },
    { input_ids: [1, 20, 21, 22, 23], labels: [-100, -100, 21, 22, 23] },
  ];

  it("right padding", () => {
    const batch = buildBatch(samples, { padTokenId: PAD, paddingSide: "right" });
    expect(batch.shape).toEqual([2, 5]);
    expect(Array.from(batch.input_ids)).toEqual([1, 10, 11, PAD, PAD, 1, 20, 21, 22, 23]);
    expect(Array.from(batch.attention_mask)).toEqual([1, 1, 1, 0, 0, 1, 1, 1, 1, 1]);
    expect(Array.from(batch.labels)).toEqual([-100, 10, 11, -100, -100, -100, -100, 21, 22, 23]);
  });

  it("left padding", () => {
    const batch = buildBatch(samples, { padTokenId: PAD, paddingSide: "left" });
    expect(batch.shape).toEqual([2, 5]);
    expect(Array.from(batch.input_ids)).toEqual([PAD, PAD, 1, 10, 11, 1, 20, 21, 22, 23]);
    expect(Array.from(batch.attention_mask)).toEqual([0, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(Array.from(batch.labels)).toEqual([-100, -100, -100, 10, 11, -100, -100, 21, 22, 23]);
  });

  it("returns int32 arrays", () => {
    const batch = buildBatch(samples, { padTokenId: PAD, paddingSide: "right" });
    expect(batch.input_ids).toBeInstanceOf(Int32Array);
    expect(batch.attention_mask).toBeInstanceOf(Int32Array);
    expect(batch.labels).toBeInstanceOf(Int32Array);
  });

  it("sample without labels is unsupervised", () => {
    const batch = buildBatch([{ input_ids: [1, 5] }, { input_ids: [1, 6, 7], labels: [-100, 6, 7] }], {
      padTokenId: 0,
      paddingSide: "right",
    });
    expect(Array.from(batch.labels)).toEqual([-100, -100, -100, -100, 6, 7]);
  });

  it("truncates to maxLength", () => {
    const batch = buildBatch(samples, { padTokenId: PAD, paddingSide: "right", maxLength: 4 });
    expect(batch.shape).toEqual([2, 4]);
    expect(Array.from(batch.input_ids)).toEqual([1, 10, 11, PAD, 1, 20, 21, 22]);
    expect(Array.from(batch.labels)).toEqual([-100, 10, 11, -100, -100, -100, 21, 22]);
  });

  it("maxLength above the longest does not pad further", () => {
    expect(buildBatch(samples, { padTokenId: PAD, paddingSide: "right", maxLength: 64 }).shape).toEqual([2, 5]);
  });

  it("truncation after all placeholders is allowed", () => {
    const sample = { input_ids: [1, VISION, VISION, 5, 6, 7] };
    const batch = buildBatch([sample], { padTokenId: PAD, paddingSide: "right", maxLength: 4, modalityTokenIds: { vision: VISION } });
    expect(Array.from(batch.input_ids)).toEqual([1, VISION, VISION, 5]);
  });

  it("truncation through a placeholder run throws", () => {
    const sample = { input_ids: [1, 5, VISION, VISION, VISION, VISION, 6, 7] };
    const call = () =>
      buildBatch([{ input_ids: [1] }, sample], {
        padTokenId: PAD,
        paddingSide: "right",
        maxLength: 4,
        modalityTokenIds: { vision: VISION },
      });
    expect(call).toThrow(InputError);
    expect(call).toThrow(
      /^vision: truncating sample 1 from 8 to maxLength 4 tokens would cut 2 of its 4 vision placeholder tokens \(id 32000\) at its end; raise maxLength to at least 6/,
    );
  });

  it("truncation dropping a whole run throws", () => {
    const sample = { input_ids: [1, 5, 6, 7, VISION, VISION] };
    const call = () =>
      buildBatch([sample], { padTokenId: PAD, paddingSide: "left", maxLength: 4, modalityTokenIds: { vision: VISION } });
    expect(call).toThrow(/vision: truncating sample 0 .* would cut 2 of its 2 vision placeholder tokens/);
  });

  it("left truncation keeps the last tokens", () => {
    const batch = buildBatch(samples, { padTokenId: PAD, paddingSide: "right", maxLength: 4, truncationSide: "left" });
    expect(batch.shape).toEqual([2, 4]);
    expect(Array.from(batch.input_ids)).toEqual([1, 10, 11, PAD, 20, 21, 22, 23]);
    expect(Array.from(batch.labels)).toEqual([-100, 10, 11, -100, -100, 21, 22, 23]);
  });

  it("left truncation before all placeholders is allowed", () => {
    const sample = { input_ids: [1, 5, 6, VISION, VISION, 7] };
    const options = { padTokenId: PAD, paddingSide: "left" as const, maxLength: 4, truncationSide: "left" as const };
    const batch = buildBatch([sample], { ...options, modalityTokenIds: { vision: VISION } });
    expect(Array.from(batch.input_ids)).toEqual([6, VISION, VISION, 7]);
  });

  it("left truncation through a placeholder run throws", () => {
    const sample = { input_ids: [1, VISION, VISION, VISION, 5, 6, 7] };
    const call = () =>
      buildBatch([sample], {
        padTokenId: PAD,
        paddingSide: "right",
        maxLength: 5,
        truncationSide: "left",
        modalityTokenIds: { vision: VISION },
      });
    expect(call).toThrow(InputError);
    expect(call).toThrow(
      /^vision: truncating sample 0 from 7 to maxLength 5 tokens would cut 1 of its 3 vision placeholder tokens \(id 32000\) at its start; raise maxLength to at least 6/,
    );
  });

  it("padToMaxLength pads every row to maxLength", () => {
    const batch = buildBatch(samples, { padTokenId: PAD, paddingSide: "left", maxLength: 7, padToMaxLength: true });
    expect(batch.shape).toEqual([2, 7]);
    expect(Array.from(batch.input_ids)).toEqual([PAD, PAD, PAD, PAD, 1, 10, 11, PAD, PAD, 1, 20, 21, 22, 23]);
    expect(Array.from(batch.attention_mask)).toEqual([0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1]);
  });

  it("padToMaxLength truncates longer rows", () => {
    const batch = buildBatch(samples, { padTokenId: PAD, paddingSide: "right", maxLength: 4, padToMaxLength: true });
    expect(batch.shape).toEqual([2, 4]);
    expect(Array.from(batch.input_ids)).toEqual([1, 10, 11, PAD, 1, 20, 21, 22]);
  });

  it("rejects an empty batch", () => {
    expect(() => buildBatch([], { padTokenId: PAD, paddingSide: "right" })).toThrow(InputError);
  });

  it("rejects an empty sample", () => {
    expect(() => buildBatch([{ input_ids: [1] }, { input_ids: [] }], { padTokenId: PAD, paddingSide: "right" })).toThrow(
      /sample 1 has no tokens/,
    );
  });

  it("rejects labels of another length", () => {
    const call = () => buildBatch([{ input_ids: [1, 2], labels: [1] }], { padTokenId: PAD, paddingSide: "right" });
    expect(call).toThrow(/sample 0: labels has 1 entries but input_ids has 2/);
  });

  it.each([
    [{ padTokenId: -1, paddingSide: "right" as const }, /padTokenId must be a non-negative integer, found -1/],
    [{ padTokenId: 1.5, paddingSide: "right" as const }, /padTokenId must be a non-negative integer, found 1.5/],
    [{ padTokenId: 0, paddingSide: "right" as const, maxLength: 0 }, /maxLength must be a positive integer, found 0/],
    [{ padTokenId: 0, paddingSide: "right" as const, maxLength: 4, truncationSide: "middle" as "left" }, /truncationSide must be "left" or "right", found "middle"/],
    [{ padTokenId: 0, paddingSide: "right" as const, padToMaxLength: true }, /padToMaxLength needs maxLength/],
  ])("rejects invalid options %#", (options, message) => {
    const call = () => buildBatch(samples, options);
    expect(call).toThrow(ConfigError);
    expect(call).toThrow(message);
  });
});
