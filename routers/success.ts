/**
 * The resolver of a mutation that has nothing to answer but that it is done:
 * it runs `step`, then answers `{ success: true }` (`SuccessOutput`).
 */
export function succeed<Options>(step: (options: Options) => Promise<unknown>): (options: Options) => Promise<{ success: true }> {
  return async (options) => {
    await step(options);
    return { success: true };
  };
}
