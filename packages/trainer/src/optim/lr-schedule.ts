/** Learning-rate schedules, as transformers' get_scheduler names them. */
export type ScheduleName = "constant" | "linear" | "cosine";

export interface ScheduleOptions {
  name: ScheduleName;
  learningRate: number;
  warmupSteps: number;
  totalSteps: number;
}

/**
 * Learning rate for optimizer step `step` (0-based): linear warmup from 0 over `warmupSteps`, then
 * constant, linear decay to 0, or half-cosine decay to 0 at `totalSteps` (the formulas of
 * transformers' `get_constant_schedule_with_warmup`, `get_linear_schedule_with_warmup` and
 * `get_cosine_schedule_with_warmup`).
 */
export function learningRateAt(step: number, { name, learningRate, warmupSteps, totalSteps }: ScheduleOptions): number {
  if (step < warmupSteps) return (learningRate * step) / Math.max(1, warmupSteps);
  if (name === "constant") return learningRate;
  const progress = (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
  if (name === "linear") return learningRate * Math.max(0, 1 - progress);
  return learningRate * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
}
