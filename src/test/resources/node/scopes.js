'use strict';
// What a credential may do: events and list (tunnels:read), a registration for lifecycle events,
// and unless argv[3] is "reads-only", a start and a stop of tunnel argv[2] (tunnels:write).
const { open, request, out, done, run } = require('./lib');

run(async () => {
  const id = process.argv[2];
  const eb = await open();
  const errors = [];
  eb.onerror = (frame) => errors.push(frame);
  out({ list: await request(eb, 'porthole.tunnels.list', {}) });
  out({ events: await request(eb, 'porthole.events.list', { tunnel_id: id, since: 0 }) });
  if (process.argv[3] !== 'reads-only') {
    out({ start: await request(eb, 'porthole.tunnels.start', { type: 'tcp', host: '127.0.0.1', port: 1 }) });
    out({ stop: await request(eb, 'porthole.tunnels.stop', { id }) });
  }
  eb.registerHandler('porthole.tunnels.lifecycle', () => {});
  // A round trip after the registration: its refusal, if any, has arrived by then.
  await request(eb, 'porthole.tunnels.list', {});
  out({ errors });
  done(eb);
});
