import type { ProgressSnapshot, ProgressStep } from '../shared/types';

/**
 * Steps a snapshot keeps: the newest ones (`current` counts them all). A script may open
 * 100,000 steps; a snapshot travels as heartbeat details and in the job's result, which Temporal
 * bounds (2 MB a payload).
 */
export const MAX_KEPT_STEPS = 1000;
/** A step's text is cut to this many characters. */
export const MAX_STEP_INFO = 500;

/**
 * Upstream's TaskProgress: a total, a list of steps with their durations, a percentage. Each
 * change calls `onChange`, which reads `snapshot()` when it needs one (the runner forwards it to
 * the worker a few times a second at most; the runScript activity sends it with its next heartbeat).
 */
export class Progress {
  private total = 1;
  /** The newest MAX_KEPT_STEPS steps. */
  private steps: ProgressStep[] = [];
  /** Steps opened so far. */
  private count = 0;
  private stepStartedAt = 0;
  private started = new Date();
  private stopped: Date | null = null;

  constructor(private readonly onChange: () => void = () => {}) {}

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
    this.count += 1;
    const text = info ?? `step ${this.count}`;
    this.steps.push({ info: text.length > MAX_STEP_INFO ? `${text.slice(0, MAX_STEP_INFO - 1)}…` : text, duration: -1 });
    if (this.steps.length > MAX_KEPT_STEPS) this.steps.shift();
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
      current: this.count,
      progress: done ? 100 : Math.min(99, Math.floor((Math.max(0, this.count - 1) / this.total) * 100)),
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
    this.onChange();
  }
}
