// PouchDB Server (the npm package `pouchdb-server`, pinned in
// package-lock.json) as a second CouchDB-style server for the interop tests:
// its own node process on a free loopback port, its LevelDB files, config
// and log in a folder of the caller's.
'use strict';

const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { Http } = require('./harness');

// pouchdb-server's CLI takes no port 0 (it reads 0 as "unset" and binds
// 5984), so a free port is found first; another process may take it in
// between, so startPouchDBServer tries a few.
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function cliPath() {
  // The package's own bin entry (bin/pouchdb-server requires lib/index.js).
  const pkgDir = path.dirname(require.resolve('pouchdb-server/package.json'));
  const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  return { file: path.join(pkgDir, pkg.bin['pouchdb-server']), version: pkg.version };
}

// One attempt on one port. The config file is written first with a fresh
// server uuid; the server is ready when GET / on the port answers with that
// uuid, which also proves that nothing else answered on the port.
async function startOnce(dir, port) {
  const cli = cliPath();
  const uuid = crypto.randomUUID().replace(/-/g, '');
  const configPath = path.join(dir, 'config.json');
  const logPath = path.join(dir, 'log.txt');
  fs.mkdirSync(path.join(dir, 'dbs'), { recursive: true });
  fs.writeFileSync(configPath, JSON.stringify({ couchdb: { uuid }, log: { file: logPath } }));
  // --no-stdout-logs: the log (one line per request) stays in log.txt.
  const proc = spawn(process.execPath,
                     [cli.file, '--host', '127.0.0.1', '--port', String(port), '--dir',
                      path.join(dir, 'dbs'), '--config', configPath, '--no-stdout-logs', '--no-color'],
                     { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const take = (c) => { output = (output + c.toString('utf8')).slice(-20000); };
  proc.stdout.on('data', take);
  proc.stderr.on('data', take);
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    proc.on('exit', (code, signal) => { exited = { code, signal }; resolve(exited); });
  });
  const killOnExit = () => { if (!exited) proc.kill('SIGKILL'); };
  process.on('exit', killOnExit);

  const stop = async () => {
    if (!exited) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exitPromise;
      clearTimeout(timer);
    }
    process.removeListener('exit', killOnExit);
    return exited;
  };
  // The last lines of its request log (log.txt), or of what it printed
  // when there is no log yet.
  const logTail = (n) => {
    let log = '';
    try { log = fs.readFileSync(logPath, 'utf8'); } catch { /* not written yet */ }
    return (log || output).split('\n').filter(Boolean).slice(-n).join('\n');
  };

  const url = `http://127.0.0.1:${port}`;
  const http = new Http(url);
  const deadline = Date.now() + 20000;
  for (;;) {
    if (exited) {
      return { error: `pouchdb-server exited (${JSON.stringify(exited)}) before answering:\n` +
                      output.slice(-3000), retry: /EADDRINUSE|already in use/.test(output) };
    }
    if (/EADDRINUSE|already in use/.test(output)) {
      await stop();
      return { error: `port ${port} is taken`, retry: true };
    }
    const r = await http.request('GET', '/').catch(() => null);
    if (r && r.status === 200 && r.json && r.json.uuid === uuid) break;
    if (r && r.status && !(r.json && r.json['express-pouchdb'])) {
      await stop();  // someone else's server on this port
      return { error: `another server answers on port ${port}: ${r.what}`, retry: true };
    }
    if (Date.now() > deadline) {
      await stop();
      return { error: `pouchdb-server did not answer GET / on ${url} within 20 s:\n${output.slice(-3000)}` };
    }
    await new Promise((res) => setTimeout(res, 50));
  }
  return { server: { url, uuid, version: cli.version, exited: () => exited, logTail, stop } };
}

// Starts pouchdb-server with its files in `dir` (created if needed).
// Resolves to {url, uuid, version, exited(), logTail(n), stop()}; stop()
// ends the process (SIGTERM, SIGKILL after 5 s) and resolves once it exited.
async function startPouchDBServer(dir) {
  let last;
  for (let attempt = 0; attempt < 3; attempt++) {
    const attemptDir = path.join(dir, `run${attempt}`);
    const r = await startOnce(attemptDir, await freePort());
    if (r.server) return r.server;
    last = r.error;
    if (!r.retry) break;
  }
  throw new Error(`could not start pouchdb-server: ${last}`);
}

module.exports = { startPouchDBServer };
