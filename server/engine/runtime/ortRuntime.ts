// The one module that imports onnxruntime-node. Architecture Invariant: nothing else in
// Heed imports it; the rest of the engine sees `OrtSession` with plain typed arrays.
//
// onnxruntime-node's public `session.run()` returns a Promise but does its work in one
// synchronous native call after a setImmediate hop. The engine's Sequence.append() is
// synchronous by contract (it runs in a worker thread, and cancellation is checked between
// passes), so we call the native binding's synchronous run directly. The binding is the
// same object the public API wraps (onnxruntime-node/dist/backend.js); if a future version
// moves it, `createSession` fails loudly at load time, not silently at run time.
import * as ort from 'onnxruntime-node';

export interface SessionOptions {
  threads?: number; // intra-op threads; 2 by default (FACTS.md: small models gain little beyond).
}

export type FeedTensor =
  | { type: 'float32'; data: Float32Array; dims: readonly number[] }
  | { type: 'int64'; data: BigInt64Array; dims: readonly number[] }
  | { type: 'int8'; data: Int8Array; dims: readonly number[] }
  | { type: 'uint8'; data: Uint8Array; dims: readonly number[] };

export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** What run() fetches when not told otherwise. */
  readonly defaultFetch: readonly string[];
  /**
   * Runs the graph once. Inputs are read in place (ORT does not copy them); the outputs
   * named in `fetch` (by default the session's default fetches) come back as new arrays.
   */
  run(feeds: Record<string, FeedTensor>, fetch?: readonly string[]): Record<string, Float32Array>;
  dispose(): void;
}

interface NativeSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: object): void;
  loadModel(path: string, options: object): void;
  run(feeds: Record<string, ort.Tensor>, fetches: Record<string, null>, options: object): Record<string, { data: unknown }>;
  dispose(): void;
  inputMetadata: Array<{ name: string }>;
  outputMetadata: Array<{ name: string }>;
}

interface NativeBindingModule {
  binding: { InferenceSession: new () => NativeSession };
  initOrt(): void;
}

function nativeBinding(): NativeBindingModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module = require('onnxruntime-node/dist/binding') as Partial<NativeBindingModule>;
  if (typeof module.initOrt !== 'function' || typeof module.binding?.InferenceSession !== 'function') {
    throw new Error(`onnxruntime-node ${ort.env.versions.common}: native binding not where expected`);
  }
  return module as NativeBindingModule;
}

/**
 * Creates a CPU session from serialized model bytes, or from a model file (whose external
 * data files ORT reads from beside it). Throws ORT's message on a bad graph.
 */
export function createSession(model: Uint8Array | string, options: SessionOptions = {}, defaultFetch?: readonly string[]): OrtSession {
  const native = nativeBinding();
  native.initOrt();
  const session = new native.binding.InferenceSession();
  const sessionOptions = {
    executionProviders: [{ name: 'cpu' }],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: options.threads ?? 2,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // HEED_ORT_PROFILE=PREFIX writes ORT's per-node timing (Chrome trace JSON) for benchmarks.
    ...(process.env.HEED_ORT_PROFILE ? { enableProfiling: true, profileFilePrefix: process.env.HEED_ORT_PROFILE } : {}),
  };
  if (typeof model === 'string') session.loadModel(model, sessionOptions);
  else session.loadModel(model.buffer as ArrayBuffer, model.byteOffset, model.byteLength, sessionOptions);
  const inputNames = session.inputMetadata.map((m) => m.name);
  const outputNames = session.outputMetadata.map((m) => m.name);
  const fetchesOf = (names: readonly string[]): Record<string, null> => Object.fromEntries(names.map((n) => [n, null]));
  const defaultFetches = fetchesOf(defaultFetch ?? outputNames);
  let disposed = false;
  return {
    inputNames,
    outputNames,
    defaultFetch: Object.keys(defaultFetches),
    run(feeds, fetch) {
      if (disposed) throw new Error('session already disposed');
      const tensors: Record<string, ort.Tensor> = {};
      for (const [name, feed] of Object.entries(feeds)) tensors[name] = new ort.Tensor(feed.type, feed.data, feed.dims);
      const fetches = fetch ? fetchesOf(fetch) : defaultFetches;
      const results = session.run(tensors, fetches, {});
      const out: Record<string, Float32Array> = {};
      for (const name of Object.keys(fetches)) {
        const data = results[name]?.data;
        if (!(data instanceof Float32Array)) throw new Error(`output ${name} is not float32`);
        out[name] = data;
      }
      return out;
    },
    dispose() {
      if (!disposed) session.dispose();
      disposed = true;
    },
  };
}
