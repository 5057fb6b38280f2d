import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { RequestHandler } from 'express';

export function sha256Hex(text: string): string {
  return crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Upstream's answer, and where to find the key: `npm start` writes the one it generates to .temporal/api-key. */
export const INVALID_TOKEN =
  'Invalid token: send the API key in the x-api-key header (npm start keeps the key it generated in .temporal/api-key; GOD_PASSWORD_SHA256 is its SHA-256)';

/**
 * Upstream's check: header `x-api-key` holds the plaintext key, accepted when its SHA-256 equals
 * GOD_PASSWORD_SHA256. With no hash configured every protected route is refused.
 */
export function requireApiKey(expectedSha256: string | undefined): RequestHandler {
  const expected = Buffer.from(expectedSha256 ?? 'not_set');
  return (req, res, next) => {
    const key = req.header('x-api-key');
    const got = Buffer.from(key === undefined ? '' : sha256Hex(key));
    if (got.length === expected.length && crypto.timingSafeEqual(got, expected)) return next();
    res.status(401).set('WWW-Authenticate', 'x-api-key').json({ detail: INVALID_TOKEN });
  };
}

/** The API key `npm start` generates once when GOD_PASSWORD_SHA256 is unset. */
export function readOrCreateApiKey(file: string): { key: string; created: boolean } {
  if (fs.existsSync(file)) return { key: fs.readFileSync(file, 'utf8').trim(), created: false };
  const key = crypto.randomBytes(24).toString('base64url');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  return { key, created: true };
}
