import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createApp, type ApiDeps } from './app';
import { errorBody } from './errors';

export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

/**
 * The most bytes of request line and headers read for one request (Node's default, set here so
 * that no command-line flag changes it); a request with more is answered 431.
 */
export const MAX_HEADER_BYTES = 16 * 1024;
/** How long the rest of a refused request is read (and dropped) for its client to get the answer. */
const DRAIN_MS = 5000;

/** What a request the HTTP parser refused is answered, by the parser's error code. */
function clientErrorAnswer(code: string | undefined): [number, string, string] {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'Request Header Fields Too Large', `The request headers are over ${MAX_HEADER_BYTES} bytes`];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'Request Timeout', 'The request did not arrive in time'];
    default:
      return [400, 'Bad Request', `Malformed HTTP request${code ? ` (${code})` : ''}`];
  }
}

const answered = new WeakSet<Duplex>();

/**
 * Answers a request the HTTP parser refused (headers too large, malformed) with a status and
 * upstream's error body, then reads what the client still sends until it is done: closing with
 * its bytes unread would reset the connection, and the client would see a reset, not the answer.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (answered.has(socket)) return; // the parser reports each later chunk again
  answered.add(socket);
  // A response already under way on this connection cannot be followed by another (as Node's own handler).
  const inFlight = (socket as Duplex & { _httpMessage?: { _headerSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?._headerSent) {
    socket.destroy();
    return;
  }
  const [status, reason, details] = clientErrorAnswer(err.code);
  const body = JSON.stringify(errorBody(status, details));
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  const timer = setTimeout(() => socket.destroy(), DRAIN_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.on('error', () => socket.destroy());
  socket.resume();
}

/** How long a stopping API lets the requests in progress finish (an upload, a download) before it cuts them. */
export const CLOSE_GRACE_MS = 10_000;
let closeGraceMs = CLOSE_GRACE_MS;
/** For tests: another grace. */
export function setCloseGraceMs(ms: number): void {
  closeGraceMs = ms;
}

/** A request whose answer lasts as long as its job: an event stream, a followed log. */
function isStream(req: http.IncomingMessage): boolean {
  const url = req.url ?? '';
  return /^\/jobs\/[^/?]+\/events(\?|$)/.test(url) || (/^\/jobs\/[^/?]+\/logs\?/.test(url) && /[?&]follow=(true|1)(&|$)/.test(url));
}

/** Serves the API on config.apiHost:apiPort (port 0: any free port). */
export async function listen(deps: ApiDeps, port = deps.config.apiPort): Promise<ApiServer> {
  const server = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES }, createApp(deps));
  server.on('clientError', answerClientError);
  // Longer than clients' keep-alive, so that a client never reuses a connection the server is
  // closing at that very moment (ECONNRESET on a poll).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  // No deadline on a whole request (Node's is 5 minutes): an upload of gigabytes takes longer.
  // A stalled upload is dropped instead (upload.ts, UPLOAD_IDLE_MS).
  server.requestTimeout = 0;
  // Requests in progress, so that a stop lets them finish (streams, which clients resume, are cut).
  const inFlight = new Map<http.IncomingMessage, http.ServerResponse>();
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    inFlight.set(req, res);
    res.once('close', () => inFlight.delete(req));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, deps.config.apiHost, resolve);
  });
  const { port: actual } = server.address() as AddressInfo;
  const everywhere = listensEverywhere(deps.config.apiHost);
  const host = everywhere ? '127.0.0.1' : deps.config.apiHost;
  // The URL to use on this machine; where it listens too, when that is every interface.
  deps.log.info(`API listening on http://${host}:${actual}${everywhere ? ` (listening on all interfaces, API_HOST=${deps.config.apiHost})` : ''}`);
  return {
    url: `http://${host}:${actual}`,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Event streams and followed logs would never end by themselves: their clients reconnect.
      for (const [req, res] of inFlight) if (isStream(req)) res.destroy();
      if (inFlight.size > 0) {
        deps.log.info(`waiting up to ${closeGraceMs / 1000} s for ${inFlight.size} request(s) in progress (uploads, downloads)`);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.all([...inFlight.values()].map((res) => new Promise((resolve) => res.once('close', resolve)))),
          new Promise((resolve) => (timer = setTimeout(resolve, closeGraceMs))),
        ]);
        clearTimeout(timer);
      }
      server.closeAllConnections();
      await closed;
    },
  };
}

/** API_HOST names every interface of the machine (the default), not one address. */
export function listensEverywhere(apiHost: string): boolean {
  return apiHost === '0.0.0.0' || apiHost === '::';
}
