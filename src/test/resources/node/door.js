'use strict';
// Whether the bridge opens with this process's credential and the SockJS options of argv[2]
// (transports, transportOptions); when it opens, a list over it.
const { open, request, out, done, run } = require('./lib');

run(async () => {
  let eb;
  try {
    eb = await open(JSON.parse(process.argv[2] || '{}'));
  } catch (closed) {
    out({ closed });
    return done(null);
  }
  out({ open: true, list: await request(eb, 'porthole.tunnels.list', {}) });
  done(eb);
});
