/** One point of a loss curve. */
export interface LossPoint {
  step: number;
  loss: number;
}

const WIDTH = 640;
const HEIGHT = 400;
const MARGIN = { left: 64, right: 24, top: 36, bottom: 48 };
const TRAIN_COLOR = "#1f77b4";
const EVAL_COLOR = "#d62728";

/**
 * Renders the training loss (and the held-out loss, when given) against the step as a standalone
 * SVG document: axes with tick labels, one polyline per series, a legend. Non-finite losses
 * (skipped steps) are left out, which splits the line there.
 */
export function renderLossCurveSvg(train: LossPoint[], evaluation: LossPoint[] = []): string {
  const finite = [...train, ...evaluation].filter((point) => Number.isFinite(point.loss));
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`];
  parts.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`);
  parts.push(`<text x="${WIDTH / 2}" y="20" text-anchor="middle" font-size="14">Loss by step</text>`);
  if (finite.length === 0) {
    parts.push(`<text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle">no finite loss to plot</text>`, "</svg>");
    return parts.join("\n");
  }
  const x = axisScale(finite.map((p) => p.step), MARGIN.left, WIDTH - MARGIN.right);
  const y = axisScale(finite.map((p) => p.loss), HEIGHT - MARGIN.bottom, MARGIN.top);
  parts.push(...drawAxes(x, y));
  parts.push(...polylines(train, x, y, TRAIN_COLOR));
  parts.push(...polylines(evaluation, x, y, EVAL_COLOR));
  for (const point of evaluation.filter((p) => Number.isFinite(p.loss))) {
    parts.push(`<circle cx="${x.map(point.step).toFixed(1)}" cy="${y.map(point.loss).toFixed(1)}" r="3" fill="${EVAL_COLOR}"/>`);
  }
  parts.push(...legend(evaluation.length > 0), "</svg>");
  return parts.join("\n");
}

/** A linear map from data values to pixels, with rounded tick values that span the data. */
interface Scale {
  ticks: number[];
  map(value: number): number;
}

function axisScale(values: number[], fromPixel: number, toPixel: number): Scale {
  let [low, high] = [Math.min(...values), Math.max(...values)];
  if (low === high) [low, high] = [low - Math.max(Math.abs(low) * 0.1, 1), high + Math.max(Math.abs(high) * 0.1, 1)];
  const ticks = niceTicks(low, high, 5);
  const [first, last] = [Math.min(low, ticks[0]), Math.max(high, ticks.at(-1)!)];
  return { ticks, map: (value) => fromPixel + ((value - first) / (last - first)) * (toPixel - fromPixel) };
}

/** About `count` evenly spaced values at 1, 2 or 5 times a power of ten, covering [low, high]. */
export function niceTicks(low: number, high: number, count: number): number[] {
  const rough = (high - low) / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const spacing = [1, 2, 5, 10].map((factor) => factor * power).find((candidate) => candidate >= rough)!;
  const ticks: number[] = [];
  for (let value = Math.floor(low / spacing) * spacing; value <= high + spacing * 1e-9; value += spacing) ticks.push(Number(value.toPrecision(12)));
  if (ticks.at(-1)! < high) ticks.push(Number((ticks.at(-1)! + spacing).toPrecision(12)));
  return ticks;
}

function drawAxes(x: Scale, y: Scale): string[] {
  const [left, right, top, bottom] = [MARGIN.left, WIDTH - MARGIN.right, MARGIN.top, HEIGHT - MARGIN.bottom];
  const parts = [`<path d="M${left} ${top} V${bottom} H${right}" fill="none" stroke="black"/>`];
  for (const tick of x.ticks) {
    const px = x.map(tick).toFixed(1);
    parts.push(`<line x1="${px}" y1="${bottom}" x2="${px}" y2="${bottom + 5}" stroke="black"/>`);
    parts.push(`<text x="${px}" y="${bottom + 18}" text-anchor="middle">${formatTick(tick)}</text>`);
  }
  for (const tick of y.ticks) {
    const py = y.map(tick).toFixed(1);
    parts.push(`<line x1="${left - 5}" y1="${py}" x2="${left}" y2="${py}" stroke="black"/>`);
    parts.push(`<line x1="${left}" y1="${py}" x2="${right}" y2="${py}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${left - 8}" y="${py}" text-anchor="end" dominant-baseline="middle">${formatTick(tick)}</text>`);
  }
  parts.push(`<text x="${(left + right) / 2}" y="${HEIGHT - 10}" text-anchor="middle">step</text>`);
  parts.push(`<text x="16" y="${(top + bottom) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(top + bottom) / 2})">loss</text>`);
  return parts;
}

/** Draws one polyline per run of consecutive finite points. */
function polylines(points: LossPoint[], x: Scale, y: Scale, color: string): string[] {
  const runs: LossPoint[][] = [[]];
  for (const point of points) {
    if (Number.isFinite(point.loss)) runs.at(-1)!.push(point);
    else if (runs.at(-1)!.length > 0) runs.push([]);
  }
  return runs
    .filter((run) => run.length > 0)
    .map((run) => {
      const coordinates = run.map((p) => `${x.map(p.step).toFixed(1)},${y.map(p.loss).toFixed(1)}`).join(" ");
      return `<polyline points="${coordinates}" fill="none" stroke="${color}" stroke-width="1.5"/>`;
    });
}

function legend(withEval: boolean): string[] {
  const right = WIDTH - MARGIN.right;
  const entries = withEval ? [["train", TRAIN_COLOR], ["eval", EVAL_COLOR]] : [["train", TRAIN_COLOR]];
  return entries.flatMap(([label, color], i) => {
    const y = MARGIN.top + 10 + i * 16;
    return [
      `<line x1="${right - 70}" y1="${y}" x2="${right - 50}" y2="${y}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${right - 44}" y="${y}" dominant-baseline="middle">${label}</text>`,
    ];
  });
}

function formatTick(value: number): string {
  return Number(value.toPrecision(4)).toString();
}
