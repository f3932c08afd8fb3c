// A small builder for ONNX graphs: typed initializers, nodes with attributes, symbolic
// input/output shapes and unique value names. It knows nothing about transformers; the
// decoder graph is written on top of it (graph/decoderGraph.ts).
import {
  AttributeMessage,
  AttributeType,
  DataType,
  Dim,
  encodeModel,
  externalDataLocation,
  GraphMessage,
  NodeMessage,
  TensorMessage,
  ValueInfoMessage,
  valueInfo,
} from './onnxProto';

/** Attribute values: numbers are ints unless wrapped with `float()`; arrays likewise. */
export type AttrValue = number | string | number[] | { float: number } | { floats: number[] };

export const float = (value: number): { float: number } => ({ float: value });
export const floats = (values: number[]): { floats: number[] } => ({ floats: values });

const opsetVersion = 17; // Reduce* still take axes as attributes; Shape has start/end.
const microsoftDomain = 'com.microsoft';

function bytesOf(view: ArrayBufferView): Uint8Array {
  // ONNX raw_data is little-endian, as are the machines we run on (x64, arm64).
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * Where large initializers go when the graph is saved with external data: the sink stores
 * the bytes (appending them to a file) and says where they landed.
 */
export interface ExternalDataSink {
  /** The data file's name, relative to the model file. */
  readonly location: string;
  write(raw: Uint8Array): { offset: number; length: number };
}

/** Initializers smaller than this stay inside the model file. */
const externalThresholdBytes = 1024;

export class GraphBuilder {
  /** `parent`: the graph an If branch belongs to; names stay unique across both. */
  constructor(
    private readonly externalData?: ExternalDataSink,
    private readonly parent?: GraphBuilder,
  ) {
    this.used = parent ? parent.used : new Set<string>();
  }

  private readonly nodes: NodeMessage[] = [];
  private readonly initializers: TensorMessage[] = [];
  private readonly inputs: ValueInfoMessage[] = [];
  private readonly outputs: ValueInfoMessage[] = [];
  private readonly used: Set<string>;
  // Per graph: a branch's constants live in the branch, where the parent cannot see them.
  private readonly constants = new Map<string, string>();
  private microsoftDomain = false;

  private get usesMicrosoftDomain(): boolean {
    return this.microsoftDomain;
  }

  private set usesMicrosoftDomain(uses: boolean) {
    this.microsoftDomain = uses;
    if (this.parent) this.parent.usesMicrosoftDomain = uses;
  }

  /** Returns `base` if it is free, else `base_2`, `base_3`…; every value name passes here. */
  uniqueName(base: string): string {
    let name = base;
    for (let i = 2; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Declares a graph input; its name is kept exactly, since callers feed it by name. */
  input(name: string, elemType: number, dims: Dim[]): string {
    if (this.used.has(name)) throw new Error(`graph input name already used: ${name}`);
    this.used.add(name);
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** Marks `value` as a graph output named `name`, adding an Identity when they differ. */
  output(value: string, name: string, elemType: number, dims: Dim[]): void {
    if (value !== name) {
      if (this.used.has(name)) throw new Error(`graph output name already used: ${name}`);
      this.used.add(name);
      this.nodes.push({ name: `${name}_identity`, op_type: 'Identity', input: [value], output: [name], attribute: [] });
    }
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  initializerFloat(base: string, data: Float32Array, dims: number[]): string {
    return this.initializer(base, DataType.FLOAT, bytesOf(data), dims, data.length);
  }

  initializerUint8(base: string, data: Uint8Array, dims: number[]): string {
    return this.initializer(base, DataType.UINT8, data, dims, data.length);
  }

  initializerInt64(base: string, data: ArrayLike<number>, dims: number[]): string {
    const values = BigInt64Array.from(Array.from(data, (v) => BigInt(v)));
    return this.initializer(base, DataType.INT64, bytesOf(values), dims, values.length);
  }

  /** A small int64 constant, shared between nodes that use the same values. */
  constInt64(values: number[]): string {
    const key = `i64:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.initializerInt64('const_i64', values, [values.length]);
      this.constants.set(key, name);
    }
    return name;
  }

  /** A scalar float constant (dims []), shared like constInt64. */
  constFloat(value: number): string {
    const key = `f32:${value}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.initializerFloat('const_f32', Float32Array.of(value), []);
      this.constants.set(key, name);
    }
    return name;
  }

  private initializer(base: string, dataType: number, raw: Uint8Array, dims: number[], count: number): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (expected !== count) throw new Error(`initializer ${base}: ${count} values for dims [${dims}]`);
    const name = this.uniqueName(base);
    if (this.externalData && raw.byteLength >= externalThresholdBytes) {
      const { offset, length } = this.externalData.write(raw);
      this.initializers.push({
        name,
        dims,
        data_type: dataType,
        data_location: externalDataLocation,
        external_data: [
          { key: 'location', value: this.externalData.location },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(length) },
        ],
      });
    } else {
      this.initializers.push({ name, dims, data_type: dataType, raw_data: raw });
    }
    return name;
  }

  /** Adds a node with one output and returns the output's (unique) name. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outBase?: string): string {
    return this.opMulti(opType, inputs, 1, attrs, outBase)[0];
  }

  /** Adds a com.microsoft contrib node (CPU kernels exist for the ones we use). */
  msOp(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outBase?: string): string {
    this.usesMicrosoftDomain = true;
    return this.opMulti(opType, inputs, 1, attrs, outBase, microsoftDomain)[0];
  }

  opMulti(
    opType: string,
    inputs: string[],
    outputCount: number,
    attrs: Record<string, AttrValue> = {},
    outBase?: string,
    domain = '',
  ): string[] {
    const base = outBase ?? opType.toLowerCase();
    const output = Array.from({ length: outputCount }, (_, i) => this.uniqueName(outputCount > 1 ? `${base}_${i}` : base));
    const attribute = Object.entries(attrs).map(([name, value]) => attributeOf(name, value));
    this.nodes.push({ name: this.uniqueName(`node_${base}`), op_type: opType, domain, input: inputs, output, attribute });
    return output;
  }

  /**
   * An If node: `cond` (bool [1]) picks which branch runs; each branch is built by its
   * callback on a child builder, may read any value of this graph, and returns its outputs
   * in the same order, with their element types and shapes.
   */
  ifOp(cond: string, outputs: Array<{ base: string; elemType: number; dims: Dim[] }>, thenBranch: (b: GraphBuilder) => string[], elseBranch: (b: GraphBuilder) => string[]): string[] {
    const branch = (build: (b: GraphBuilder) => string[], name: string): GraphMessage => {
      const b = new GraphBuilder(this.externalData, this);
      const values = build(b);
      if (values.length !== outputs.length) throw new Error(`If branch ${name}: ${values.length} outputs, expected ${outputs.length}`);
      // A branch's outputs must be values it produces: copy outer ones through an Identity.
      const produced = new Set(b.nodes.flatMap((n) => n.output));
      values.forEach((value, i) => {
        const own = produced.has(value) ? value : b.op('Identity', [value], {}, `${name}_out${i}`);
        b.outputs.push(valueInfo(own, outputs[i].elemType, outputs[i].dims));
      });
      return { name, node: b.nodes, initializer: b.initializers, input: [], output: b.outputs };
    };
    const base = outputs[0]?.base ?? 'if';
    const thenGraph = branch(thenBranch, this.uniqueName(`${base}_then`));
    const elseGraph = branch(elseBranch, this.uniqueName(`${base}_else`));
    const names = outputs.map((o) => this.uniqueName(o.base));
    this.nodes.push({
      name: this.uniqueName(`node_${base}_if`),
      op_type: 'If',
      input: [cond],
      output: names,
      attribute: [
        { name: 'then_branch', type: AttributeType.GRAPH, g: thenGraph },
        { name: 'else_branch', type: AttributeType.GRAPH, g: elseGraph },
      ],
    });
    return names;
  }

  /** Serializes the graph as an ONNX model. */
  encode(graphName: string): Uint8Array {
    const opsets = [{ domain: '', version: opsetVersion }];
    if (this.usesMicrosoftDomain) opsets.push({ domain: microsoftDomain, version: 1 });
    return encodeModel({
      ir_version: 8,
      producer_name: 'heed',
      producer_version: '0.1.0',
      opset_import: opsets,
      graph: { name: graphName, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    });
  }
}

function attributeOf(name: string, value: AttrValue): AttributeMessage {
  if (typeof value === 'number') return { name, type: AttributeType.INT, i: value };
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  return { name, type: AttributeType.FLOATS, floats: value.floats };
}
