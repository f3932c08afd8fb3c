// Background warm-up: when the editor is idle, prefill the prompt the next completion will
// most likely get (the workspace files and the document at the last cursor), so that the
// completion finds the workspace part in the prefix cache. It runs at background priority:
// a completion arriving stops it at the next forward pass, and what it had computed stays
// cached; it tries again once the editor is idle. Progress goes to the status bar.

import type { EngineService } from '../../engineService';
import { CancelSource, JobFailedError } from '../../worker/modelHost';
import type { PromptParts } from '../../worker/messages';

/** Quiet time after the last trigger before a warm-up starts. */
export const warmUpIdleMs = 1500;
/** After a completion pre-empted it: wait for a longer pause. */
const afterPreemptedMs = 5000;

export class WarmUp {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: CancelSource | undefined;
  private disposed = false;

  constructor(
    private readonly engine: EngineService,
    private readonly promptFor: () => Promise<{ prompt: PromptParts; maxPromptTokens: number } | undefined>,
    private readonly log: (line: string) => void,
  ) {}

  /** Starts a warm-up once nothing else asked for one for `delayMs`; a newer request replaces an older one. */
  schedule(delayMs = warmUpIdleMs): void {
    if (this.disposed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), delayMs);
  }

  private async run(): Promise<void> {
    this.timer = undefined;
    this.running?.cancel();
    const source = new CancelSource();
    this.running = source;
    try {
      const built = await this.promptFor();
      if (!built || source.signal.isCancellationRequested) return;
      const result = await this.engine.warm(built.prompt, built.maxPromptTokens, source.signal, (p) =>
        this.engine.showProgress({ title: 'Reading the workspace', done: p.warmedTokens, total: p.promptTokens }),
      );
      if (result.computedTokens > 1) {
        this.log(`Warm-up: ${result.computedTokens} of ${result.promptTokens} prompt tokens computed in ${result.ms.toFixed(0)} ms; the rest was cached.`);
      }
    } catch (error) {
      // Stopped by a completion (or a newer warm-up): what it computed stays cached.
      if (error instanceof JobFailedError && error.cancelled) {
        if (this.running === source) this.schedule(afterPreemptedMs);
        return;
      }
      this.log(`Warm-up failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      if (this.running === source) {
        this.running = undefined;
        this.engine.showProgress(undefined);
      }
    }
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.running?.cancel();
  }
}
