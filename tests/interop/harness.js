// The harness for the PouchDB interoperability tests: the real `divan`
// binary on a free loopback port with a fresh data folder, a log of every
// HTTP request PouchDB sends to it, a plain HTTP client for checking what
// divan stores, and a tiny sequential test runner that prints one line per
// test and "interop: N passed, N failed" at the end.
'use strict';

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

// ---------------------------------------------------------------- the server

// Starts `$DIVAN_BIN serve --bind 127.0.0.1 --port 0 --data <tmp>/data` and
// resolves once it printed "listening on http://127.0.0.1:PORT" on stderr.
// `extraArgs` go to `divan serve`; without them it runs as an admin party
// (--insecure-admin-party), as a test that does not exercise security needs.
async function startDivan(dataDir, extraArgs = ['--insecure-admin-party']) {
  const bin = process.env.DIVAN_BIN;
  if (!bin) throw new Error('DIVAN_BIN is not set (meson sets it to the built http/divan)');
  fs.accessSync(bin, fs.constants.X_OK);
  const proc = spawn(bin, ['serve', '--bind', '127.0.0.1', '--port', '0', '--data', dataDir,
                           ...extraArgs],
                     { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];  // the last lines divan printed, for failure reports
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    proc.on('exit', (code, signal) => { exited = { code, signal }; resolve(exited); });
  });
  let partial = '';
  let onLine = () => {};
  const take = (chunk) => {
    partial += chunk.toString('utf8');
    let nl;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      lines.push(line);
      if (lines.length > 400) lines.shift();
      onLine(line);
    }
  };
  proc.stdout.on('data', take);
  proc.stderr.on('data', take);
  process.on('exit', () => { if (!exited) proc.kill('SIGKILL'); });

  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(
      'divan did not print "listening on" within 20 s:\n' + lines.join('\n'))), 20000);
    onLine = (line) => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    };
    exitPromise.then((e) => {
      clearTimeout(timer);
      reject(new Error(`divan exited (${JSON.stringify(e)}) before listening:\n${lines.join('\n')}`));
    });
  });
  onLine = () => {};

  return {
    url,
    exited: () => exited,
    logTail: (n) => lines.slice(-n).join('\n'),
    // SIGTERM, then SIGKILL after 10 s; resolves to {code, signal}.
    async stop() {
      if (exited) return exited;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
      const e = await exitPromise;
      clearTimeout(timer);
      return e;
    },
  };
}

// ------------------------------------------------------- PouchDB's requests

// Wraps PouchDB's fetch so that every request PouchDB's http adapter sends
// is recorded: method, path, query, status, and the bodies of error answers.
class RequestLog {
  constructor(baseFetch) {
    this.baseFetch = baseFetch;
    this.entries = [];
    this.fetch = this.fetch.bind(this);
  }

  async fetch(url, opts = {}) {
    const u = new URL(url);
    const entry = {
      method: (opts.method || 'GET').toUpperCase(),
      path: decodeURIComponent(u.pathname),
      query: Object.fromEntries(u.searchParams),
      raw: u.pathname + u.search,
      status: 0,
    };
    if (typeof opts.body === 'string') entry.reqBody = opts.body.slice(0, 600);
    this.entries.push(entry);
    try {
      const res = await this.baseFetch(url, opts);
      entry.status = res.status;
      if (!res.ok) entry.resBody = (await res.clone().text()).slice(0, 600);
      return res;
    } catch (err) {
      entry.error = err && err.name === 'AbortError' ? 'aborted' : String(err);
      throw err;
    }
  }

  mark() { return this.entries.length; }
  since(mark) { return this.entries.slice(mark); }

  // Error answers that PouchDB does not expect from a correct server. A 404
  // on `GET /db` (PouchDB then creates it) and on `GET /db/_local/...`
  // (no checkpoint yet) are part of the protocol.
  unexpected(mark) {
    return this.since(mark).filter((e) => {
      if (e.error === 'aborted') return false;
      if (e.error) return true;
      if (e.status < 400) return false;
      const parts = e.path.split('/').filter(Boolean);
      if (e.status === 404 && e.method === 'GET' && parts.length === 1) return false;
      if (e.status === 404 && e.method === 'GET' && parts[1] === '_local') return false;
      return true;
    });
  }

  static describe(e) {
    let s = `${e.method} ${e.raw} -> ${e.error ? e.error : e.status}`;
    if (e.reqBody) s += `\n      request body: ${e.reqBody}`;
    if (e.resBody) s += `\n      response: ${e.resBody}`;
    return s;
  }
}

// ----------------------------------------------------------- plain HTTP

// A plain JSON client for divan (node's http module, one request each), for
// writing documents and for reading what divan stores without PouchDB.
class Http {
  constructor(baseUrl) { this.base = new URL(baseUrl); }

  request(method, urlPath, body, headers = {}) {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined
        : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      const req = http.request({
        host: this.base.hostname, port: this.base.port, method, path: urlPath,
        headers: {
          Accept: 'application/json',
          ...(data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {}),
          ...headers,
        },
      }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json;
          try { json = JSON.parse(text); } catch { json = undefined; }
          resolve({ status: res.statusCode, headers: res.headers, text, json,
                    what: `${method} ${urlPath}${data ? ' ' + data.toString().slice(0, 300) : ''}` +
                          ` -> ${res.statusCode} ${text.slice(0, 400)}` });
        });
      });
      req.on('error', reject);
      req.setTimeout(20000, () => req.destroy(new Error(`${method} ${urlPath}: no answer in 20 s`)));
      if (data) req.write(data);
      req.end();
    });
  }

  // Like request(), but asserts the status is one of `ok` and returns the JSON.
  async json(method, urlPath, body, ok = [200, 201, 202]) {
    const r = await this.request(method, urlPath, body);
    assert.ok(ok.includes(r.status), `unexpected answer: ${r.what}`);
    assert.ok(r.json !== undefined, `answer is not JSON: ${r.what}`);
    return r.json;
  }
}

// `_design/x` and `_local/x` keep their slash; every other id is one
// URL-encoded path segment (so `a/b` becomes `a%2Fb`), as PouchDB does.
function docPath(db, id) {
  for (const prefix of ['_design/', '_local/']) {
    if (id.startsWith(prefix)) return `/${db}/${prefix}${encodeURIComponent(id.slice(prefix.length))}`;
  }
  return `/${db}/${encodeURIComponent(id)}`;
}

// -------------------------------------------------------------- the runner

// Waits until `check()` returns a truthy value (or resolves to one), polling
// every 20 ms; fails with `what` after `ms`.
async function waitFor(what, ms, check) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function withTimeout(promise, ms, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

// Runs `tests` ([{name, fn, timeoutMs}]) one after another. A test fails if
// it throws, times out, or PouchDB received an unexpected error answer from
// divan while it ran. A test that throws notRun(...) (a test it builds on
// failed) counts as failed, in one line. Returns the number of failures.
async function runTests(tests, { server, log }) {
  let passed = 0;
  let failed = 0;
  for (const t of tests) {
    const mark = log.mark();
    const started = Date.now();
    let error = null;
    try {
      await withTimeout(Promise.resolve().then(t.fn), t.timeoutMs || 20000, t.name);
      const bad = log.unexpected(mark);
      if (bad.length) {
        error = new Error('PouchDB got error answers from divan:\n    ' +
                          bad.slice(0, 8).map(RequestLog.describe).join('\n    '));
      }
    } catch (err) {
      error = err;
    }
    const ms = Date.now() - started;
    if (!error) {
      passed++;
      console.log(`ok   - ${t.name} (${ms} ms)`);
      continue;
    }
    failed++;
    if (error.notRun) {  // a test it builds on failed: nothing to show
      console.log(`FAIL - ${t.name}: not run, ${error.message}`);
      continue;
    }
    console.log(`FAIL - ${t.name} (${ms} ms)`);
    console.log(indent(describeError(error), '    '));
    const bad = log.unexpected(mark);
    if (bad.length && !String(error.message).startsWith('PouchDB got error answers')) {
      console.log('    error answers PouchDB got from divan during this test:');
      console.log('    ' + bad.slice(0, 8).map(RequestLog.describe).join('\n    '));
    }
    const pending = log.since(mark).filter((e) => e.status === 0 && !e.error);
    if (pending.length) {
      console.log('    requests still waiting for an answer:');
      console.log('    ' + pending.slice(0, 5).map(RequestLog.describe).join('\n    '));
    }
    if (server.exited()) console.log(`    divan exited: ${JSON.stringify(server.exited())}`);
    console.log('    last lines of divan\'s log:');
    console.log(indent(server.logTail(15), '      '));
  }
  console.log(`interop: ${passed} passed, ${failed} failed`);
  return failed;
}

// PouchDB's errors carry what divan answered (status, error name, reason)
// as properties and often an empty message; print those too.
function describeError(err) {
  if (!err || typeof err !== 'object') return String(err);
  let text = err.stack || String(err);
  if (!(err instanceof assert.AssertionError)) {
    const fields = {};
    for (const k of ['status', 'name', 'error', 'message', 'reason', 'id', 'docId']) {
      if (err[k] !== undefined && err[k] !== '') fields[k] = err[k];
    }
    text = `error ${JSON.stringify(fields)}\n${text}`;
  }
  if (err.result) text += `\nreplication result: ${JSON.stringify(err.result).slice(0, 800)}`;
  return text;
}

// The error for a test that cannot run because `why` (e.g. a test it
// builds on failed).
function notRun(why) {
  const err = new Error(why);
  err.notRun = true;
  return err;
}

function indent(text, prefix) {
  return String(text).split('\n').map((l) => prefix + l).join('\n');
}

function makeTempDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'divan-interop-'));
}

// The npm package pouchdb, or a failed run saying how to install it.
function loadPouchDB() {
  try {
    return require('pouchdb');
  } catch (err) {
    console.log(`FAIL - load the npm package pouchdb: ${err.message}`);
    console.log('    Install it with scripts/setup.sh (it runs `npm ci` in tests/interop).');
    console.log('interop: 0 passed, 1 failed');
    process.exit(1);
  }
}

// The frame of each test program. Runs `body(tmp, atExit)` with a fresh
// scratch folder; `body` starts what it needs, registers how to stop each
// part with atExit(fn) (run in reverse order at the end, also after a
// failure), and returns runTests()'s failure count. An error thrown from
// `body` counts as one failure. Removes the scratch folder and exits with 1
// if anything failed.
async function runMain(body) {
  const tmp = makeTempDir();
  const stops = [];
  let failures = 1;
  try {
    failures = await body(tmp, (fn) => stops.push(fn));
  } catch (err) {
    console.log(err.what ? `FAIL - ${err.what}: ${err.message}` : `FAIL - harness error: ${err.stack || err}`);
    console.log('interop: 0 passed, 1 failed');
    failures = 1;
  } finally {
    for (const stop of stops.reverse()) await stop();
    fs.rmSync(tmp, { recursive: true, force: true });
    process.exit(failures ? 1 : 0);
  }
}

// Awaits `start()`; if it fails, runMain reports "FAIL - start <what>: ...".
async function starting(what, start) {
  try {
    return await start();
  } catch (err) {
    err.what = `start ${what}`;
    throw err;
  }
}

module.exports = {
  startDivan, RequestLog, Http, docPath, waitFor, runTests, notRun, loadPouchDB, runMain, starting,
};
