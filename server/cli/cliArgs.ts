// Helpers the commands share: numeric options with clear errors, and Ctrl-C as a cancel signal.

import { CancelSource, type CancelSignal } from '../worker/modelHost';
import type { KvRequest } from '../engine/types';

export function parseNumber(name: string, value: string, integer: boolean): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || (integer && !Number.isInteger(parsed))) throw new Error(`--${name} must be a ${integer ? 'whole ' : ''}number, not "${value}"`);
  return parsed;
}

/** A cancel signal raised by the first Ctrl-C (a second one ends the process as usual). */
export function cancelOnInterrupt(): { signal: CancelSignal; dispose(): void } {
  const source = new CancelSource();
  const onInterrupt = () => {
    process.removeListener('SIGINT', onInterrupt);
    source.cancel();
  };
  process.on('SIGINT', onInterrupt);
  return { signal: source.signal, dispose: () => process.removeListener('SIGINT', onInterrupt) };
}

/** The KV options every model-running command takes, for parseArgs. */
export const kvOptions = {
  kv: { type: 'string', default: 'dense' },
  'kv-ratio': { type: 'string' },
  'kv-threshold': { type: 'string' },
  'kv-sinks': { type: 'string' },
  'kv-window': { type: 'string' },
  'head-pattern': { type: 'string' },
  'kv-block': { type: 'string' },
} as const;

export const kvUsage = '[--kv dense|head-aware|dense+int8|head-aware+int8] [--kv-ratio R | --kv-threshold T] [--kv-sinks S] [--kv-window W] [--head-pattern FILE] [--kv-block B]';

export function parseKvRequest(values: {
  kv?: string;
  'kv-ratio'?: string;
  'kv-threshold'?: string;
  'kv-sinks'?: string;
  'kv-window'?: string;
  'head-pattern'?: string;
  'kv-block'?: string;
}): KvRequest {
  const name = values.kv ?? 'dense';
  const int8 = name.endsWith('+int8');
  const policy = int8 ? name.slice(0, -'+int8'.length) : name;
  if (values['kv-block'] !== undefined && !int8) throw new Error('--kv-block needs --kv dense+int8 or head-aware+int8');
  const quantized = int8 ? { int8, ...(values['kv-block'] === undefined ? {} : { int8Block: parseNumber('kv-block', values['kv-block'], true) }) } : {};
  const tuning = values['kv-ratio'] ?? values['kv-threshold'] ?? values['kv-sinks'] ?? values['kv-window'] ?? values['head-pattern'];
  if (policy === 'dense') {
    if (tuning !== undefined) throw new Error('--kv-ratio, --kv-threshold, --kv-sinks, --kv-window and --head-pattern need --kv head-aware');
    return { policy, ...quantized };
  }
  if (policy !== 'head-aware') throw new Error(`--kv takes dense, head-aware, dense+int8 or head-aware+int8, not "${name}"`);
  const ratio = values['kv-ratio'] === undefined ? undefined : parseNumber('kv-ratio', values['kv-ratio'], false);
  if (ratio !== undefined && (ratio < 0 || ratio > 1)) throw new Error(`--kv-ratio must be in [0, 1], not ${ratio}`);
  const threshold = values['kv-threshold'] === undefined ? undefined : parseNumber('kv-threshold', values['kv-threshold'], false);
  if (threshold !== undefined && (threshold < 0 || threshold > 1)) throw new Error(`--kv-threshold must be in [0, 1], not ${threshold}`);
  if (threshold !== undefined && ratio !== undefined) throw new Error('--kv-ratio and --kv-threshold choose the full heads two ways: give one');
  return {
    policy,
    ratio,
    threshold,
    sinks: values['kv-sinks'] === undefined ? undefined : parseNumber('kv-sinks', values['kv-sinks'], true),
    window: values['kv-window'] === undefined ? undefined : parseNumber('kv-window', values['kv-window'], true),
    patternFile: values['head-pattern'],
    ...quantized,
  };
}
