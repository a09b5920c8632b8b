'use strict';
// porthole.tunnels.start with each body of the JSON array in argv[2], one reply line each, in order.
const { open, request, out, done, run } = require('./lib');

run(async () => {
  const eb = await open();
  for (const body of JSON.parse(process.argv[2])) {
    out({ start: await request(eb, 'porthole.tunnels.start', body) });
  }
  done(eb);
});
