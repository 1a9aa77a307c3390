import { describe, expect, it } from "vitest";
import { niceTicks, renderLossCurveSvg } from "./loss-curve-svg";

function polylinePoints(svg: string): Array<Array<[number, number]>> {
  return [...svg.matchAll(/<polyline points="([^"]+)"/g)].map((match) => match[1].split(" ").map((pair) => pair.split(",").map(Number) as [number, number]));
}

describe("renderLossCurveSvg", () => {
  const train = [4, 3, 2.5, 2, 1.8].map((loss, i) => ({ step: i + 1, loss }));

  it("draws the loss as a polyline that falls as the loss falls", () => {
    const svg = renderLossCurveSvg(train);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    const [line] = polylinePoints(svg);
    expect(line).toHaveLength(5);
    for (let i = 1; i < line.length; i++) {
      expect(line[i][0]).toBeGreaterThan(line[i - 1][0]); // x grows with the step
      expect(line[i][1]).toBeGreaterThan(line[i - 1][1]); // SVG y grows downward as the loss falls
    }
  });

  it("labels the axes and their ticks", () => {
    const svg = renderLossCurveSvg(train);
    expect(svg).toContain(">step</text>");
    expect(svg).toContain(">loss</text>");
    for (const tick of ["1.5", "2", "2.5", "3", "3.5", "4"]) expect(svg).toContain(`>${tick}</text>`);
  });

  it("breaks the line at skipped steps and marks evaluations", () => {
    const withGap = train.map((point) => (point.step === 3 ? { ...point, loss: Number.NaN } : point));
    const svg = renderLossCurveSvg(withGap, [{ step: 2, loss: 3.2 }, { step: 4, loss: 2.4 }]);
    const lines = polylinePoints(svg);
    expect(lines.map((line) => line.length)).toEqual([2, 2, 2]); // train before and after the gap, then eval
    expect(svg.match(/<circle /g)).toHaveLength(2);
    expect(svg).toContain(">eval</text>");
  });

  it("says so when there is nothing to plot", () => {
    expect(renderLossCurveSvg([{ step: 1, loss: Number.NaN }])).toContain("no finite loss to plot");
  });
});

describe("niceTicks", () => {
  it.each([
    [0.13, 2.71, [0, 1, 2, 3]],
    [1.8, 4, [1.5, 2, 2.5, 3, 3.5, 4]],
    [1, 60, [0, 20, 40, 60]],
  ])("covers [%d, %d] with round values", (low, high, ticks) => {
    expect(niceTicks(low, high, 5)).toEqual(ticks);
  });
});
