#!/usr/bin/env node
// Replication benchmark (issue 4; see docs/benchmarks.md, "Replication").
//
//   node bench/repl_bench.js [--docs N] [--divan PATH] [--only LIST] [--dir PATH]
//
// Side by side in one run, on loopback, with the same documents:
//   - divan -> divan: two divan servers; POST /_replicate on the target
//     server pulls the source database over HTTP (one-shot, answered when
//     done). HTTP requests are counted from both servers' request logs.
//   - PouchDB Server -> PouchDB Server: POST /_replicate on one PouchDB
//     Server (npm pouchdb-server, default LevelDB storage), from one of its
//     databases to another over its own HTTP API.
//   - PouchDB's node client (npm pouchdb, LevelDB in a scratch folder)
//     pulling the same database from divan and from PouchDB Server.
// Each runs on two data sets: N ~200-byte documents, and the same where
// 10% of the documents have 3 conflicting branches. Every replica is
// checked afterwards (document count, and winner and conflicts of a
// sample), so a fast wrong answer cannot pass.
//
// Needs `npm ci` in bench/ (pouchdb-server and pouchdb) and a release build
// of divan (default: ../build-release/http/divan).
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const args = process.argv.slice(2);
function opt(name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}
const N = Number(opt('--docs', '100000'));
const DIVAN = path.resolve(opt('--divan', path.join(__dirname, '..', 'build-release', 'http', 'divan')));
const ONLY = new Set(opt('--only', 'divan,pouchdb,client').split(','));
const SCRATCH = fs.mkdtempSync(path.join(opt('--dir', os.tmpdir()), 'repl-bench-'));
const POUCHDB_SERVER = path.join(__dirname, 'node_modules', 'pouchdb-server', 'bin', 'pouchdb-server');

function log(...a) { process.stderr.write(a.join(' ') + '\n'); }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
    s.on('error', reject);
  });
}

// A seeded generator, so every run uses the same ids and bodies.
let seed = 0x9e3779b97f4a7c15n;
function rand64() {
  seed ^= seed << 13n; seed &= (1n << 64n) - 1n;
  seed ^= seed >> 7n;
  seed ^= seed << 17n; seed &= (1n << 64n) - 1n;
  return seed;
}
function hex32() { return rand64().toString(16).padStart(16, '0') + rand64().toString(16).padStart(16, '0'); }

// The documents of a data set, as _bulk_docs new_edits=false entries with
// their revisions given, so both servers hold identical trees.
function makeDataSet(conflicts) {
  const batches = [];
  let batch = [];
  let revisions = 0;
  for (let i = 0; i < N; i++) {
    const id = hex32();
    const base = hex32();
    const body = { type: 'bench', n: i, text: 'x'.repeat(120) + String(i).padStart(8, '0') };
    const doc = Object.assign({ _id: id, _rev: '1-' + base }, body);
    if (conflicts && i % 10 === 0) {
      for (let b = 0; b < 3; b++) {
        const h = hex32();
        batch.push(Object.assign({ _id: id, _rev: '2-' + h, _revisions: { start: 2, ids: [h, base] } },
          body, { branch: b }));
        revisions++;
      }
    } else {
      batch.push(doc);
      revisions++;
    }
    if (batch.length >= 1000) { batches.push(batch); batch = []; }
  }
  if (batch.length) batches.push(batch);
  return { batches, revisions };
}

async function http(method, url, body) {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
  return { status: res.status, json, text };
}

async function waitUp(url, proc, logFile) {
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${url} exited: ${fs.readFileSync(logFile, 'utf8').slice(-2000)}`);
    try { if ((await fetch(url)).ok) return; } catch (e) { /* not yet */ }
    await sleep(50);
  }
  throw new Error(`${url} did not start`);
}

const children = [];
async function startDivan(name) {
  const port = await freePort();
  const data = path.join(SCRATCH, name);
  const logFile = path.join(SCRATCH, name + '.log');
  const out = fs.openSync(logFile, 'w');
  const proc = spawn(DIVAN, ['serve', '--insecure-admin-party', '--bind', '127.0.0.1', '--port', String(port), '--data', data],
    { stdio: ['ignore', out, out] });
  children.push(proc);
  const url = `http://127.0.0.1:${port}`;
  await waitUp(url + '/', proc, logFile);
  return { name, url, proc, logFile };
}

async function startPouchDBServer() {
  const port = await freePort();
  const dir = path.join(SCRATCH, 'pouchdb-server');
  fs.mkdirSync(dir);
  const logFile = path.join(SCRATCH, 'pouchdb-server.log');
  const out = fs.openSync(logFile, 'w');
  const proc = spawn(process.execPath, [POUCHDB_SERVER, '--host', '127.0.0.1', '--port', String(port), '--dir', dir],
    { stdio: ['ignore', out, out], cwd: dir });
  children.push(proc);
  const url = `http://127.0.0.1:${port}`;
  await waitUp(url + '/', proc, logFile);
  return { name: 'pouchdb-server', url, proc, logFile };
}

// Lines of a server's request log, to count requests between two points.
function logLines(server) {
  return fs.readFileSync(server.logFile, 'utf8').split('\n').filter((l) =>
    /\b(GET|PUT|POST|DELETE|HEAD) \//.test(l)).length;
}

async function load(server, db, data) {
  const r = await http('PUT', `${server.url}/${db}`);
  if (r.status !== 201) throw new Error(`PUT ${db}: ${r.text}`);
  for (const docs of data.batches) {
    const w = await http('POST', `${server.url}/${db}/_bulk_docs`, { new_edits: false, docs });
    if (w.status !== 201) throw new Error(`_bulk_docs: ${w.status} ${w.text.slice(0, 300)}`);
  }
}

// The document count, and winner + conflicts of a sample of documents,
// must match the source's.
async function verify(sourceUrl, targetUrl, data) {
  const s = (await http('GET', sourceUrl)).json;
  const t = (await http('GET', targetUrl)).json;
  if (!t || s.doc_count !== t.doc_count) throw new Error(`doc_count ${t && t.doc_count} != ${s.doc_count}`);
  const sample = [];
  for (let b = 0; b < data.batches.length; b += Math.max(1, Math.floor(data.batches.length / 20))) {
    for (let k = 0; k < data.batches[b].length; k += 97) sample.push(data.batches[b][k]._id);
  }
  for (const id of sample) {
    const a = (await http('GET', `${sourceUrl}/${id}?conflicts=true`)).json;
    const b = (await http('GET', `${targetUrl}/${id}?conflicts=true`)).json;
    const key = (d) => d._rev + ' ' + JSON.stringify((d._conflicts || []).slice().sort());
    if (key(a) !== key(b)) throw new Error(`${id}: ${key(b)} != ${key(a)}`);
  }
  return sample.length;
}

async function replicateVia(server, source, target) {
  const t0 = process.hrtime.bigint();
  const r = await http('POST', `${server.url}/_replicate`, { source, target, create_target: true });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 200 || !r.json || !r.json.ok) throw new Error(`_replicate: ${r.status} ${r.text.slice(0, 500)}`);
  return seconds;
}

async function clientPull(sourceUrl, name) {
  const PouchDB = require('pouchdb');
  const local = new PouchDB(path.join(SCRATCH, 'client-' + name));
  const t0 = process.hrtime.bigint();
  const info = await PouchDB.replicate(sourceUrl, local, { batch_size: 100 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (!info.ok) throw new Error(`client pull from ${sourceUrl} failed`);
  const count = (await local.info()).doc_count;
  await local.destroy();
  return { seconds, docs_written: info.docs_written, count };
}

async function main() {
  log(`repl_bench: ${N} docs; scratch ${SCRATCH}; divan ${DIVAN}`);
  const results = [];
  const sets = [['plain', makeDataSet(false)], ['conflicts', makeDataSet(true)]];
  const a = await startDivan('divan-a');
  const b = await startDivan('divan-b');
  const p = ONLY.has('pouchdb') || ONLY.has('client') ? await startPouchDBServer() : null;
  for (const [name, data] of sets) {
    log(`loading ${name}: ${data.revisions} revisions`);
    await load(a, 'src_' + name, data);
    if (p) await load(p, 'src_' + name, data);
    const row = { name, docs: N, revisions: data.revisions };
    if (ONLY.has('divan')) {
      const before = logLines(a) + logLines(b);
      const s = await replicateVia(b, `${a.url}/src_${name}`, `${b.url}/dst_${name}`);
      await sleep(200);  // let the last log lines reach the files
      const requests = logLines(a) + logLines(b) - before - 1;  // less the POST /_replicate
      row.divan = { seconds: s, docs_per_s: N / s, requests, per_1000: requests / (N / 1000) };
      row.divan.checked = await verify(`${a.url}/src_${name}`, `${b.url}/dst_${name}`, data);
      log(`divan -> divan ${name}: ${s.toFixed(2)} s, ${Math.round(N / s)} docs/s, ${requests} requests`);
    }
    if (ONLY.has('pouchdb')) {
      const before = logLines(p);
      const s = await replicateVia(p, `${p.url}/src_${name}`, `${p.url}/dst_${name}`);
      await sleep(200);
      const requests = logLines(p) - before - 1;
      row.pouchdb = { seconds: s, docs_per_s: N / s, requests, per_1000: requests / (N / 1000) };
      row.pouchdb.checked = await verify(`${p.url}/src_${name}`, `${p.url}/dst_${name}`, data);
      log(`PouchDB Server ${name}: ${s.toFixed(2)} s, ${Math.round(N / s)} docs/s, ${requests} requests`);
    }
    if (ONLY.has('client')) {
      const fromDivan = await clientPull(`${a.url}/src_${name}`, 'divan-' + name);
      const fromPouch = await clientPull(`${p.url}/src_${name}`, 'pouch-' + name);
      for (const r of [fromDivan, fromPouch]) if (r.count !== N) throw new Error(`client pulled ${r.count} of ${N}`);
      row.client = { divan_s: fromDivan.seconds, pouchdb_s: fromPouch.seconds };
      log(`PouchDB client pull ${name}: from divan ${fromDivan.seconds.toFixed(2)} s, from PouchDB Server ${fromPouch.seconds.toFixed(2)} s`);
    }
    results.push(row);
  }

  const f = (x) => Math.round(x).toLocaleString('en-US');
  console.log('| Data set | divan -> divan | PouchDB Server -> PouchDB Server | ratio | requests / 1000 docs (divan, PouchDB Server) | PouchDB client pull from divan | from PouchDB Server | ratio |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const d = r.divan, q = r.pouchdb, c = r.client;
    console.log(`| ${r.name} (${f(r.docs)} docs, ${f(r.revisions)} revisions) | ${d ? f(d.docs_per_s) + ' docs/s' : '–'} | ` +
      `${q ? f(q.docs_per_s) + ' docs/s' : '–'} | ${d && q ? (d.docs_per_s / q.docs_per_s).toFixed(1) + '×' : '–'} | ` +
      `${d ? d.per_1000.toFixed(1) : '–'}, ${q ? q.per_1000.toFixed(1) : '–'} | ` +
      `${c ? f(r.docs / c.divan_s) + ' docs/s' : '–'} | ${c ? f(r.docs / c.pouchdb_s) + ' docs/s' : '–'} | ` +
      `${c ? (c.pouchdb_s / c.divan_s).toFixed(1) + '×' : '–'} |`);
  }
  console.log('\n' + JSON.stringify(results, null, 1));
}

function cleanup() {
  for (const c of children) { try { c.kill('SIGTERM'); } catch (e) { /* gone */ } }
}

main().then(async () => {
  cleanup();
  await sleep(500);
  fs.rmSync(SCRATCH, { recursive: true, force: true });
}, async (e) => {
  log('repl_bench: FAILED: ' + (e && e.stack || e));
  cleanup();
  await sleep(500);
  fs.rmSync(SCRATCH, { recursive: true, force: true });
  process.exit(1);
});
