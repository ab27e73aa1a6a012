// Preloaded (node --require) into a tool a test runs that must not reach the network: every
// outgoing connection and DNS lookup fails at once and is recorded, one line each, in the file
// named by REFUSE_NETWORK_LOG, so the test can assert that none was tried. Processes the tool
// spawns inherit it through NODE_OPTIONS.
'use strict';
const dns = require('node:dns');
const fs = require('node:fs');
const net = require('node:net');

const logFile = process.env.REFUSE_NETWORK_LOG;

function record(what) {
  if (logFile) fs.appendFileSync(logFile, `${process.pid} ${what}\n`);
  const error = new Error(`network refused in this test: ${what}`);
  error.code = 'ENETUNREACH';
  return error;
}

function describeTarget(args) {
  const first = args[0];
  if (Array.isArray(first)) return describeTarget(first);
  if (first && typeof first === 'object') {
    return `${first.host ?? first.path ?? 'localhost'}:${first.port ?? ''}`;
  }
  return `${args[1] ?? 'localhost'}:${first}`;
}

net.Socket.prototype.connect = function connect(...args) {
  const error = record(`connect ${describeTarget(args)}`);
  process.nextTick(() => this.destroy(error));
  return this;
};

dns.lookup = function lookup(hostname, options, callback) {
  const done = typeof options === 'function' ? options : callback;
  const error = record(`dns.lookup ${hostname}`);
  process.nextTick(() => done(error));
};
const promises = dns.promises;
promises.lookup = async (hostname) => {
  throw record(`dns.promises.lookup ${hostname}`);
};
