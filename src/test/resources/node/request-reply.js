'use strict';
// list, get and stop of one tunnel (argv[2]) and a get of an unknown id, as the bridge answers them.
const { open, request, out, done, run } = require('./lib');

run(async () => {
  const id = process.argv[2];
  const eb = await open();
  out({ list: await request(eb, 'porthole.tunnels.list', {}) });
  out({ get: await request(eb, 'porthole.tunnels.get', { id }) });
  out({ stop: await request(eb, 'porthole.tunnels.stop', { id }) });
  out({ missing: await request(eb, 'porthole.tunnels.get', { id: 'no-such-tunnel' }) });
  done(eb);
});
