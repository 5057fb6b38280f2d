import { PixyzNotSerializable } from './errors';

/** Fails at once, naming the culprit, when a value cannot travel as JSON. */
export function assertSerializable(value: unknown, what: string): void {
  const seen = new Set<unknown>();
  const walk = (v: unknown, where: string): void => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new PixyzNotSerializable(`${what}: ${where} is ${v}, which JSON cannot carry`);
      return;
    }
    if (v === undefined) return;
    if (typeof v === 'bigint' || typeof v === 'function' || typeof v === 'symbol') {
      throw new PixyzNotSerializable(`${what}: ${where} is a ${typeof v}, which JSON cannot carry`);
    }
    if (seen.has(v)) throw new PixyzNotSerializable(`${what}: ${where} is a circular reference`);
    seen.add(v);
    if (Array.isArray(v)) v.forEach((item, i) => walk(item, `${where}[${i}]`));
    else if (v instanceof Date) return;
    else {
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null && typeof (v as { toJSON?: unknown }).toJSON !== 'function') {
        throw new PixyzNotSerializable(`${what}: ${where} is a ${proto?.constructor?.name ?? 'object'}, not plain JSON`);
      }
      for (const [k, item] of Object.entries(v)) walk(item, `${where}.${k}`);
    }
    seen.delete(v);
  };
  walk(value, 'value');
}
