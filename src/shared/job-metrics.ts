// Job metrics, counted where jobs end: by the worker's recordState activity. In `npm start` the
// API's /metrics includes them (one process); a worker alone serves them at /metrics of its
// probe port (WORKER_HEALTH_PORT).
import { Counter, Histogram, Registry } from 'prom-client';

export const jobMetricsRegistry = new Registry();

const finished = new Counter({
  name: 'pixyz_jobs_finished_total',
  help: 'Jobs (sub-tasks included) that ended, by process and status.',
  labelNames: ['process', 'status'],
  registers: [jobMetricsRegistry],
});

const duration = new Histogram({
  name: 'pixyz_job_duration_seconds',
  help: 'Time from submission to the end of a job, by process and status.',
  labelNames: ['process', 'status'],
  buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200],
  registers: [jobMetricsRegistry],
});

export function countFinishedJob(process: string, status: string, seconds: number | null): void {
  finished.inc({ process, status });
  if (seconds !== null && Number.isFinite(seconds) && seconds >= 0) duration.observe({ process, status }, seconds);
}
