import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";

/** The backends every parity and gradient test runs on. */
export const TEST_BACKENDS = ["wasm", "cpu"] as const;
export type TestBackend = (typeof TEST_BACKENDS)[number];

/** Switches the active tfjs backend; the CPU backend serves as the reference in gradient tests. */
export async function useBackend(name: TestBackend): Promise<void> {
  tf.enableProdMode();
  if (!(await tf.setBackend(name))) throw new Error(`the ${name} backend did not start`);
  await tf.ready();
}
