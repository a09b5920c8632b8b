'use strict';
// Shared by NodeBridgeIT's scenario scripts: the published bridge client, promises around its
// callbacks, and one JSON line on stdout per observation (the Java test reads and judges them).
const EventBus = require('@vertx/eventbus-bridge-client.js');

const api = process.env.PORTHOLE_API;
const credential = process.env.PORTHOLE_CREDENTIAL;

/** The bridge URL; without a credential, none on the URL either. */
exports.url = () => `${api}/eventbus` + (credential ? `?access_token=${encodeURIComponent(credential)}` : '');

exports.out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

// Replies still awaited: a socket that closes under them fails them.
const waiting = new Set();

/** Opens the bridge: the open EventBus, or a rejection with SockJS's close code and reason. */
exports.open = (options) => new Promise((resolve, reject) => {
  const eb = new EventBus(exports.url(), options);
  eb.onopen = () => {
    eb.onclose = (e) => waiting.forEach((fail) => fail({ closed: { code: e.code, reason: e.reason } }));
    resolve(eb);
  };
  eb.onclose = (e) => reject({ code: e.code, reason: e.reason });
  eb.onerror = () => {};
});

/** A send with a reply: {body} or {err: {failureCode, failureType, message}}. */
exports.request = (eb, address, body) => new Promise((resolve, reject) => {
  waiting.add(reject);
  eb.send(address, body, (err, msg) => {
    waiting.delete(reject);
    resolve(err ? { err } : { body: msg.body });
  });
});

/** Ends the process once stdout is written; the test kills it if it hangs. */
exports.done = (eb, code) => {
  if (eb) { eb.onclose = null; eb.close(); }
  process.stdout.write('', () => process.exit(code || 0));
};

/**
 * Runs a scenario: a failure is one {"failed"} line and exit code 1, and so is a scenario that
 * left Node with nothing more to do before it finished.
 */
exports.run = (scenario) => {
  process.on('beforeExit', () => {
    exports.out({ failed: 'the scenario never finished' });
    process.exit(1);
  });
  return scenario().catch((e) => {
    exports.out({ failed: e instanceof Error ? e.stack : e });
    exports.done(null, 1);
  });
};
