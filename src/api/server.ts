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

/** Serves the API on config.apiHost:apiPort (port 0: any free port). */
export async function listen(deps: ApiDeps, port = deps.config.apiPort): Promise<ApiServer> {
  const server = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES }, createApp(deps));
  server.on('clientError', answerClientError);
  // Longer than clients' keep-alive, so that a client never reuses a connection the server is
  // closing at that very moment (ECONNRESET on a poll).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, deps.config.apiHost, resolve);
  });
  const { port: actual } = server.address() as AddressInfo;
  const host = deps.config.apiHost === '0.0.0.0' ? '127.0.0.1' : deps.config.apiHost;
  deps.log.info(`API listening on http://${host}:${actual}`);
  return {
    url: `http://${host}:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
