// Helpers the commands share: numeric options with clear errors, and Ctrl-C as a cancel signal.

import { CancelSource, type CancelSignal } from '../worker/modelHost';

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
