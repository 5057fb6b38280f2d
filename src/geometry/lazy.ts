// The WebAssembly libraries (OpenCascade, assimp, web-ifc) start once per process, on first use
// or ahead of it (a pooled script process preloads them).

export interface Lazy<T> {
  /** The library, started on the first call; a start that failed is tried again on the next. */
  get(): Promise<T>;
  /** Starts it now, settling once it is up; a failure shows again, with its message, when a file is read. */
  preload(): Promise<void>;
  /** Forgets it (after a crash inside it): the next get() starts a fresh one. */
  reset(): void;
}

export function lazy<T>(start: () => Promise<T>): Lazy<T> {
  let started: Promise<T> | undefined;
  const self: Lazy<T> = {
    get: () =>
      (started ??= start().catch((err: unknown) => {
        started = undefined;
        throw err;
      })),
    preload: () => self.get().then(
      () => {},
      () => {},
    ),
    reset: () => {
      started = undefined;
    },
  };
  return self;
}
