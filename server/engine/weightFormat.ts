// The weight formats a model can be loaded with (graph/decoderGraph.ts builds them): a
// module of its own, without the graph builder, so that settings checks can name them.

/**
 * How linear layers and the output head hold their weights: fp32 as in the checkpoint
 * (widened), or int8 / int4 blocks of 32 with a scale each (com.microsoft MatMulNBits).
 */
export const weightFormats = ['fp32', 'int8', 'int4'] as const;
export type WeightFormat = (typeof weightFormats)[number];

/** heed.engine.weights when unset (package.json's default says the same); the CLI's --weights stays fp32. */
export const editorWeightFormat: WeightFormat = 'int8';

/** `value` as a WeightFormat, or undefined when it is none. */
export function asWeightFormat(value: unknown): WeightFormat | undefined {
  return (weightFormats as readonly unknown[]).includes(value) ? (value as WeightFormat) : undefined;
}
