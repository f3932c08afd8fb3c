// llama.cpp for Node, loaded from where scripts/setup-peer.sh installs it (~/.cache/heed-peer,
// or HEED_PEER_DIR): the peer benchmark and the GGUF test use it; nothing Heed ships does.
// Only the part of node-llama-cpp's API that Heed calls is typed here.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { convertToGguf } from '../convert/gguf';
import { pathToFileURL } from 'node:url';

export interface PeerSequence {
  readonly nextTokenIndex: number;
  clearHistory(): Promise<void>;
  eraseContextTokenRanges(ranges: Array<{ start: number; end: number }>): Promise<void>;
  evaluateWithoutGeneratingNewTokens(tokens: number[]): Promise<void>;
  evaluate(tokens: number[], options: { temperature: number }): AsyncGenerator<number>;
  evaluateWithMetadata(tokens: number[], metadata: { probabilities: true }, options: { temperature: number }): AsyncGenerator<{ token: number; probabilities: Map<number, number> }>;
}

export interface PeerContext {
  getSequence(): PeerSequence;
  dispose(): Promise<void>;
}

export interface PeerModel {
  tokenize(text: string, specialTokens: boolean): number[];
  createContext(options: { contextSize: number; threads: number; flashAttention?: boolean }): Promise<PeerContext>;
  dispose(): Promise<void>;
}

export interface PeerLlama {
  loadModel(options: { modelPath: string }): Promise<PeerModel>;
  dispose(): Promise<void>;
}

export function peerModulesDir(): string {
  return join(process.env.HEED_PEER_DIR || join(homedir(), '.cache', 'heed-peer'), 'node_modules');
}

/** llama.cpp on the CPU, from the prebuilt binaries (never a local build). */
export async function loadLlamaCpp(): Promise<PeerLlama> {
  const entry = join(peerModulesDir(), 'node-llama-cpp', 'dist', 'index.js');
  if (!existsSync(entry)) throw new Error(`llama.cpp for Node is not installed (${entry} is missing): run bash scripts/setup-peer.sh`);
  const module = (await import(pathToFileURL(entry).href)) as { getLlama(options: Record<string, unknown>): Promise<PeerLlama> };
  return module.getLlama({ gpu: false, build: 'never', logLevel: 'error' });
}

/** llama.cpp running a Heed model folder: converted to f16 GGUF by Heed's converter into a temporary folder, one context. */
export interface OpenPeer {
  sequence: PeerSequence;
  /** Frees llama.cpp and removes the converted model. */
  dispose(): Promise<void>;
}

export async function openPeer(modelPath: string, contextSize: number, threads: number): Promise<OpenPeer> {
  const work = mkdtempSync(join(tmpdir(), 'heed-peer-'));
  const gguf = join(work, 'model.gguf');
  convertToGguf(modelPath, gguf, basename(modelPath));
  const llama = await loadLlamaCpp();
  const model = await llama.loadModel({ modelPath: gguf });
  const context = await model.createContext({ contextSize, threads, flashAttention: true });
  return {
    sequence: context.getSequence(),
    dispose: async () => {
      await context.dispose();
      await model.dispose();
      await llama.dispose();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
