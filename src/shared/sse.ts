// Server-Sent Events as they arrive: whole events cut from a stream's text, comments (heartbeats)
// skipped. Pure: the command line and the dashboard (a browser bundle) both read job events with it.

export interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
}

/** The whole events in `buffer`, and the rest to keep until more arrives. */
export function takeEvents(buffer: string): { events: SseEvent[]; rest: string } {
  const events: SseEvent[] = [];
  let rest = buffer;
  let cut: number;
  while ((cut = rest.indexOf('\n\n')) >= 0) {
    const block = rest.slice(0, cut);
    rest = rest.slice(cut + 2);
    if (block.startsWith(':')) continue;
    const event: SseEvent = {};
    for (const line of block.split('\n')) {
      const colon = line.indexOf(': ');
      if (colon < 0) continue;
      const name = line.slice(0, colon);
      if (name === 'id' || name === 'event' || name === 'data') event[name] = line.slice(colon + 2);
    }
    events.push(event);
  }
  return { events, rest };
}
