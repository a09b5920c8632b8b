'use strict';
// Deny by default, both ways: sends to the addresses of argv[2] and registrations for those of
// argv[3], then a publish; the replies, and every err frame the bridge sends without an address.
const { open, request, out, done, run } = require('./lib');

run(async () => {
  const sends = JSON.parse(process.argv[2]);
  const registers = JSON.parse(process.argv[3]);
  const eb = await open();
  const errors = [];
  const forbidden = () => errors.filter((e) => String(e.body).startsWith('forbidden')).length;
  eb.onerror = (frame) => errors.push(frame);
  for (const address of sends) {
    out({ send: address, reply: await request(eb, address, { id: 'x' }) });
  }
  for (const address of registers) {
    eb.registerHandler(address, (err, msg) => out({ delivered: address, err, body: msg && msg.body }));
  }
  eb.publish('porthole.tunnels.lifecycle', {});
  // One answer per refused registration and one for the publish; then a round trip, so anything
  // the bridge still had to say arrives before the end.
  const deadline = Date.now() + 15000;
  while (forbidden() < registers.length + 1 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await request(eb, 'porthole.tunnels.list', {});
  out({ errors });
  done(eb);
});
