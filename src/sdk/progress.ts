import type { ProgressSnapshot, ProgressStep } from '../shared/types';

/**
 * Upstream's TaskProgress: a total, a list of steps with their durations, a percentage. Each
 * change is handed to `onChange` (the runner forwards it to the worker as a heartbeat).
 */
export class Progress {
  private total = 1;
  private steps: ProgressStep[] = [];
  private stepStartedAt = 0;
  private started = new Date();
  private stopped: Date | null = null;

  constructor(private readonly onChange: (snapshot: ProgressSnapshot) => void = () => {}) {}

  start(): void {
    this.started = new Date();
    this.stopped = null;
    this.emit();
  }

  setTotal(total: number): void {
    this.total = Number.isFinite(total) && total > 0 ? Math.floor(total) : 1;
    this.emit();
  }

  next(info?: string): void {
    this.closeCurrentStep();
    this.steps.push({ info: info ?? `step ${this.steps.length + 1}`, duration: -1 });
    this.stepStartedAt = performance.now();
    this.emit();
  }

  stop(): void {
    this.closeCurrentStep();
    this.stopped = new Date();
    this.emit();
  }

  snapshot(): ProgressSnapshot {
    const done = this.stopped !== null;
    return {
      total: this.total,
      current: this.steps.length,
      progress: done ? 100 : Math.min(99, Math.floor((Math.max(0, this.steps.length - 1) / this.total) * 100)),
      steps: this.steps.map((s) => ({ ...s })),
      started: this.started.toISOString(),
      stopped: this.stopped ? this.stopped.toISOString() : null,
    };
  }

  private closeCurrentStep(): void {
    const last = this.steps.at(-1);
    if (last && last.duration < 0) last.duration = (performance.now() - this.stepStartedAt) / 1000;
  }

  private emit(): void {
    this.onChange(this.snapshot());
  }
}
