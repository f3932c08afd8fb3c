// Evidence's attention mass in the head-aware decoder graph (decoderGraph.ts's header lists
// the inputs and outputs): the pass's request (mass_rows, mass_by_head), each layer's mass
// per head for a short last prefill pass (mass.{l}, own_mass.{l}), and the decode steps'
// running sum over every layer (mass_sum_in, mass_sum). attention.ts computes each layer's
// mass; this module wires it to the graph's inputs and outputs.
import { GraphBuilder } from '../onnx/graphBuilder';
import { DataType } from '../onnx/onnxProto';
import { noMass, type MassRequest } from './attention';

export const massGraphNames = {
  massRows: 'mass_rows',
  massByHead: 'mass_by_head',
  layerMass: (layer: number) => `mass.${layer}`,
  layerOwnMass: (layer: number) => `own_mass.${layer}`,
  massSumIn: 'mass_sum_in',
  massSum: 'mass_sum',
};

/** What the mass needs of the rest of the graph, built there on first use. */
export interface MassGraphContext {
  /** The full heads' past capacity, int64 [1]. */
  capacity: () => string;
  /** The pass's token count, int64 [1]. */
  seqLen: string;
  /** int8 KV: its block B and the int8_mask input [1, 1, capacity] (0 where a quantized position is held). */
  int8?: { block: number; mask: () => string };
}

/**
 * What attentionAndMass needs, with whether the mass is asked summed over the heads
 * (`summed`, bool [1]: the sum over every layer is computed) or per head (`perHead`: each
 * layer's outputs are).
 */
export type PassMassRequest = MassRequest & { summed: string };

/** A layer's mass as attentionAndMass gives it: on the past's slots, on the pass's own tokens, and under int8 KV on the exact recent rows. */
export interface LayerMass {
  mass: string;
  ownMass: string;
  recentMass?: string;
}

export interface MassOutputs {
  /** mass_rows, mass_by_head and the shapes viewing exps as rows, built once. */
  wanted(): PassMassRequest;
  /**
   * The names a layer's attention gives its masses: mass.{l} itself (so that exposing it
   * adds no Identity copy), or under int8 KV a name of its own, the recent rows' mass being
   * added to it for mass.{l}.
   */
  layerNames(layer: number, base: string): { mass: string; ownMass: string };
  /** Marks a layer's mass as its outputs and keeps its share of the sum. */
  layerOutputs(layer: number, masses: LayerMass): void;
  /** mass_sum_in and mass_sum, after every layer's outputs. */
  sumOutput(): void;
}

export function massOutputs(g: GraphBuilder, context: MassGraphContext): MassOutputs {
  const { capacity, seqLen, int8 } = context;
  let request: PassMassRequest | undefined;
  /** Each mass layer's pass mass on the past (under int8 KV, on its exact recent rows apart), for the sum over every layer. */
  const layerMassTerms: string[] = [];
  const layerRecentMassTerms: string[] = [];

  const wanted = (): PassMassRequest => {
    if (request) return request;
    const weights = g.input(massGraphNames.massRows, DataType.FLOAT, ['massRows', 1]);
    // Per head, the first dimension stays the heads' (0 copies it); summed over heads, it is 1.
    const byHead = g.op('Greater', [g.input(massGraphNames.massByHead, DataType.INT64, [1]), g.constInt64([0])], {}, 'mass_by_head'); // bool [1]
    const first = g.op('Where', [byHead, g.constInt64([0]), g.constInt64([1])], {}, 'mass_first_dim');
    const on = g.op('Greater', [g.op('Size', [weights], {}, 'mass_rows_size'), g.constInt64([0])], {}, 'mass_on');
    const rowsShape = (slots: string, name: string): string => g.op('Concat', [first, g.constInt64([-1]), slots], { axis: 0 }, name);
    // Under int8 KV the exact recent rows hold positions [quantized, quantized + B): their
    // mass is padded into those slots of the past's (quantized: the int8 mask's zeros).
    const recent = ({ block, mask }: NonNullable<MassGraphContext['int8']>): MassRequest['recent'] => {
      const held = g.op('Cast', [g.op('Equal', [mask(), g.constFloat(0)])], { to: DataType.FLOAT }, 'int8_held');
      const quantized = g.op('Reshape', [g.op('Cast', [g.op('ReduceSum', [held], { keepdims: 0 })], { to: DataType.INT64 }), g.constInt64([1])], {}, 'int8_quantized'); // int64 [1]
      const after = g.op('Sub', [g.op('Sub', [capacity(), quantized]), g.constInt64([block])], {}, 'int8_after_recent');
      return { rowsShape: rowsShape(g.constInt64([block]), 'mass_recent_rows_shape'), pads: g.op('Concat', [g.constInt64([0, 0]), quantized, g.constInt64([0, 0]), after], { axis: 0 }, 'mass_recent_pads') };
    };
    return (request = {
      weights,
      on,
      summed: g.op('And', [on, g.op('Not', [byHead], {}, 'mass_not_by_head')], {}, 'mass_summed'),
      perHead: g.op('And', [on, byHead], {}, 'mass_per_head'),
      weightsShape: g.op('Concat', [first, g.constInt64([1, -1])], { axis: 0 }, 'mass_weights_shape'),
      pastRowsShape: rowsShape(capacity(), 'mass_past_rows_shape'),
      ownRowsShape: rowsShape(seqLen, 'mass_own_rows_shape'),
      ...(int8 ? { recent: recent(int8) } : {}),
    });
  };

  return {
    wanted,
    layerNames: (layer, base) => ({ mass: int8 ? `${base}_past_mass` : massGraphNames.layerMass(layer), ownMass: massGraphNames.layerOwnMass(layer) }),
    /**
     * This pass's mass per layer (mass.{l}, own_mass.{l}), and its share of the sum over
     * every layer (sumOutput). Under int8 KV the recent rows' mass goes into its slots per
     * layer only when asked per head; summed, every layer's goes in at once.
     */
    layerOutputs(layer, { mass, ownMass, recentMass }) {
      const rows = `massHeads${layer}`; // retrieval per head, 1 summed over the heads
      const dims = [rows, 1, 'massSlots'];
      const { perHead, recent } = wanted();
      if (recentMass && recent) {
        const [withRecent] = g.ifOp(
          perHead,
          [{ base: massGraphNames.layerMass(layer), elemType: DataType.FLOAT, dims }],
          (b) => [b.op('Add', [mass, b.op('Pad', [recentMass, recent.pads], { mode: 'constant' }, `l${layer}_recent_mass_slots`)], {}, `l${layer}_mass_all`)],
          (b) => [noMass(b, 1, `l${layer}_mass_summed`)],
        );
        g.output(withRecent, massGraphNames.layerMass(layer), DataType.FLOAT, dims);
        layerRecentMassTerms.push(recentMass);
      } else {
        g.output(mass, massGraphNames.layerMass(layer), DataType.FLOAT, dims);
      }
      g.output(ownMass, massGraphNames.layerOwnMass(layer), DataType.FLOAT, [rows, 1, 'ownSlots']);
      layerMassTerms.push(mass);
    },
    /**
     * mass_sum = mass_sum_in + every mass layer's pass mass on the past, computed when the
     * mass is asked summed over the heads (each layer's [1, 1, ·]), else [1, 1, 0] (the
     * layers' rows differ per head).
     */
    sumOutput() {
      if (layerMassTerms.length === 0) return;
      const { summed: asked, recent: recentRows } = wanted();
      const dims = [1, 1, 'massSumSlots'];
      const sumIn = g.input(massGraphNames.massSumIn, DataType.FLOAT, dims);
      const [summed] = g.ifOp(
        asked,
        [{ base: massGraphNames.massSum, elemType: DataType.FLOAT, dims }],
        (b) => {
          const terms = [sumIn, ...layerMassTerms];
          if (recentRows && layerRecentMassTerms.length > 0) {
            // Every layer's recent rows' mass, [1, 1, B], into their slots once.
            const recent = layerRecentMassTerms.length === 1 ? layerRecentMassTerms[0] : b.op('Sum', layerRecentMassTerms, {}, 'recent_mass_layers');
            terms.push(b.op('Pad', [recent, recentRows.pads], { mode: 'constant' }, 'recent_mass_slots'));
          }
          return [b.op('Sum', terms, {}, 'mass_sum_layers')];
        },
        (b) => [noMass(b, 1, 'mass_sum_off')],
      );
      g.output(summed, massGraphNames.massSum, DataType.FLOAT, dims);
    },
  };
}
