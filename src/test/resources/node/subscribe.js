// Lifecycle events and the tunnel list over porthole's bridge, from Node (the example in verticles.md).
const EventBus = require('@vertx/eventbus-bridge-client.js');

const api = process.env.PORTHOLE_API || 'http://127.0.0.1:7778';
const token = process.env.PORTR_APP_SERVER_TOKEN;
const eb = new EventBus(`${api}/eventbus?access_token=${encodeURIComponent(token)}`);
eb.onopen = () => {
  eb.registerHandler('porthole.tunnels.lifecycle', (err, msg) => {
    if (!err) console.log(JSON.stringify({ event: msg.body }));
  });
  eb.send('porthole.tunnels.list', {}, (err, reply) => {
    console.log(JSON.stringify(err ? { error: err.message } : { tunnels: reply.body.tunnels }));
  });
};
eb.onclose = () => process.exit(2);
process.stdin.on('end', () => { eb.onclose = null; eb.close(); process.exit(0); }).resume();
