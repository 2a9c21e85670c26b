// divan's replicator against PouchDB Server, and PouchDB's client against
// divan, conflicts included (issue 4's interop requirement):
//
//   node replicator_test.js      (DIVAN_BIN=<builddir>/http/divan; meson sets it)
//
// Three databases take part: `origin` on PouchDB Server (the npm package
// `pouchdb-server`, its own node process), `replica` on divan, and a local
// PouchDB (the npm package `pouchdb`, LevelDB adapter in a temp folder).
// Documents, updates, deletions and conflicting branches are written on all
// of them; then
//   pouchdb-server -> divan   by `divan replicate` (the CLI, both URLs),
//   divan -> pouchdb-server   by POST /_replicate on the divan server,
//   divan <-> local PouchDB   by PouchDB's sync,
// after which every document must have the same winning rev, _conflicts,
// deleted state and leaves (open_revs=all) in all three. Each test builds on
// the ones before it. Prints one line per test and "interop: N passed, N
// failed"; exits 1 on any failure.
'use strict';

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { isDeepStrictEqual } = require('node:util');
const { startDivan, RequestLog, Http, docPath, runTests, notRun, runMain, starting } = require('./harness');
const { localSide, remoteSide, assertSameDocsAcross, mapLimit } = require('./doc_state');

let PouchDB;
let startPouchDBServer;
try {
  PouchDB = require('pouchdb');
  ({ startPouchDBServer } = require('./pouchdb_server'));
  require.resolve('pouchdb-server/package.json');
} catch (err) {
  console.log(`FAIL - load the npm packages pouchdb and pouchdb-server: ${err.message}`);
  console.log('    Install them with scripts/setup.sh (it runs `npm ci` in tests/interop).');
  console.log('interop: 0 passed, 1 failed');
  process.exit(1);
}

const ORIGIN = 'origin';    // the database on pouchdb-server
const REPLICA = 'replica';  // the database on divan
const hex = (c) => c.repeat(32);  // a made-up rev hash

// --------------------------------------------------------------- helpers

// Runs `$DIVAN_BIN replicate ARGS --quiet`; resolves to {code, signal,
// stdout, stderr}. Killed after `ms`, or when this process exits.
function divanReplicate(args, ms = 15000) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.env.DIVAN_BIN, ['replicate', ...args, '--quiet'],
                       { stdio: ['ignore', 'pipe', 'pipe'] });
    const kill = () => proc.kill('SIGKILL');
    process.on('exit', kill);
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c) => { stdout += c.toString('utf8'); });
    proc.stderr.on('data', (c) => { stderr += c.toString('utf8'); });
    const timer = setTimeout(kill, ms);
    const done = () => { clearTimeout(timer); process.removeListener('exit', kill); };
    proc.on('error', (err) => { done(); reject(err); });
    proc.on('close', (code, signal) => {
      done();
      resolve({ code, signal, stdout, stderr, what: `divan replicate ${args.join(' ')}` });
    });
  });
}

// A successful `divan replicate` run: exit 0, the summary line on stderr
// and the checkpoint JSON on stdout. Returns {summary, checkpoint, stats}
// where stats is the newest history entry.
function cliResult(r) {
  const shown = `${r.what}: exit ${r.code}${r.signal ? ' ' + r.signal : ''}\n` +
                `      stderr: ${r.stderr.trim()}\n      stdout: ${r.stdout.trim().slice(0, 800)}`;
  assert.equal(r.code, 0, `failed: ${shown}`);
  const m = / done: (\d+) written, (\d+) read, (\d+) failed/.exec(r.stderr);
  assert.ok(m, `no summary line on stderr: ${shown}`);
  let checkpoint;
  assert.doesNotThrow(() => { checkpoint = JSON.parse(r.stdout); }, `stdout is not JSON: ${shown}`);
  assert.ok(Array.isArray(checkpoint.history) && checkpoint.history.length > 0,
            `no history in the checkpoint on stdout: ${shown}`);
  const stats = checkpoint.history[0];
  const summary = { written: Number(m[1]), read: Number(m[2]), failed: Number(m[3]) };
  assert.equal(summary.written, stats.docs_written, `summary and history disagree: ${shown}`);
  assert.equal(stats.doc_write_failures, 0, `doc_write_failures: ${shown}`);
  return { summary, checkpoint, stats };
}

// pouchdb-server -> divan with the CLI, in batches of 25 changes (so that a
// run takes several batches and checkpoints).
async function pullWithCli(ctx) {
  return cliResult(await divanReplicate([`${ctx.ps.url}/${ORIGIN}`, `${ctx.divan.url}/${REPLICA}`,
                                         '--batch-size', '25']));
}

// divan -> pouchdb-server with POST /_replicate on the divan server.
async function pushWithReplicate(ctx) {
  const body = { source: `${ctx.divan.url}/${REPLICA}`, target: `${ctx.ps.url}/${ORIGIN}`,
                 create_target: true };
  const r = await ctx.hd.request('POST', '/_replicate', body);
  assert.equal(r.status, 200, `POST /_replicate: ${r.what}`);
  assert.equal(r.json.ok, true, `POST /_replicate: ${r.what}`);
  assert.ok(Array.isArray(r.json.history) && r.json.history.length > 0, `no history: ${r.what}`);
  const stats = r.json.history[0];
  assert.equal(stats.doc_write_failures, 0, `doc_write_failures: ${r.what}`);
  return { answer: r.json, stats, what: r.what };
}

// The local PouchDB <-> divan with PouchDB's sync.
async function syncClient(ctx) {
  const res = await ctx.client.sync(ctx.remote);
  for (const [dir, r] of [['push', res.push], ['pull', res.pull]]) {
    assert.equal(r.ok, true, `sync ${dir}: ${JSON.stringify(r)}`);
    assert.equal(r.doc_write_failures, 0, `sync ${dir}: ${JSON.stringify(r)}`);
    assert.deepEqual(r.errors, [], `sync ${dir}: ${JSON.stringify(r.errors)}`);
  }
  return res;
}

function sides(ctx, which = ['divan', 'pouchdb-server', 'PouchDB client']) {
  const all = {
    divan: remoteSide('divan', ctx.hd, REPLICA),
    'pouchdb-server': remoteSide('pouchdb-server', ctx.hp, ORIGIN),
    'PouchDB client': localSide('PouchDB client', ctx.client),
  };
  return which.map((n) => all[n]);
}

// Every leaf of sides[0] is a leaf of sides[1], with the same body and
// _revisions. Returns the states keyed by side name and doc id.
async function assertLeavesIncluded([from, to]) {
  const ids = await from.ids();
  const [fr, tr] = [await from.rows(ids), await to.rows(ids)];
  const states = await mapLimit(ids, 8, (id, i) =>
    Promise.all([from.state(id, fr[i]), to.state(id, tr[i])]));
  const out = { [from.name]: {}, [to.name]: {} };
  const problems = [];
  states.forEach(([a, b], i) => {
    out[from.name][ids[i]] = a;
    out[to.name][ids[i]] = b;
    const have = new Map((b.leaves || []).map((l) => [l._rev, l]));
    const lacking = (a.leaves || []).filter((l) => !isDeepStrictEqual(have.get(l._rev), l));
    if (a.missing || b.missing || lacking.length) {
      problems.push(`${JSON.stringify(ids[i])}: ${to.name} lacks ` +
                    (a.missing || b.missing ? `the doc (${a.missing || b.missing})`
                      : lacking.map((l) => l._rev).join(', ') +
                        ` (has ${(b.leaves || []).map((l) => l._rev).join(', ')})`));
    }
  });
  assert.deepEqual(problems, [], `${to.name} lacks revisions ${from.name} has`);
  return out;
}

function needs(ctx, ...steps) {
  for (const s of steps) if (!ctx.done.has(s)) throw notRun(`needs the "${s}" test to have passed`);
}

// Interactive edits of one server database over HTTP.
function editor(h, db) {
  return {
    async put(id, body) {
      const cur = await h.request('GET', docPath(db, id));
      const doc = cur.status === 200 ? { ...cur.json, ...body } : { _id: id, ...body };
      return (await h.json('PUT', docPath(db, id), doc)).rev;
    },
    async remove(id, rev) {
      const r = rev || (await h.json('GET', docPath(db, id)))._rev;
      return (await h.json('DELETE', `${docPath(db, id)}?rev=${r}`)).rev;
    },
    async branches(docs) {  // new_edits=false
      const r = await h.json('POST', `/${db}/_bulk_docs`, { docs, new_edits: false });
      assert.deepEqual(r.filter((x) => x.error), [], `_bulk_docs new_edits=false on ${db}: ` +
                       JSON.stringify(r));
    },
  };
}

function clientEditor(local) {
  return {
    async put(id, body) {
      const cur = await local.get(id).catch(() => ({ _id: id }));
      return (await local.put({ ...cur, ...body })).rev;
    },
    async remove(id) { return (await local.remove(await local.get(id))).rev; },
  };
}

// Conflicting branches of one doc, written with new_edits=false:
// `chains` are rev ids newest first, each ending in the shared root.
function branchDocs(id, chains, bodyOf = (chain) => ({ branch: chain[0] })) {
  return chains.map(({ revs, deleted }) => {
    const start = revs.length;
    const doc = { _id: id, _rev: `${start}-${revs[0]}`, _revisions: { start, ids: revs },
                  ...bodyOf(revs) };
    if (deleted) doc._deleted = true;
    return doc;
  });
}

// ------------------------------------------------------------------ tests

// 1. Both servers get documents of their own: bulk writes, updates,
// deletions (one keeping a body), a recreated doc, odd ids, a design doc, a
// _local doc, branches written with new_edits=false, a doc created on both
// with different bodies, and docs later edited everywhere.
async function seedTest(ctx) {
  for (const [h, db, p] of [[ctx.hp, ORIGIN, 'p'], [ctx.hd, REPLICA, 'd']]) {
    await h.json('PUT', `/${db}`);
    const e = editor(h, db);
    const docs = Array.from({ length: 40 }, (_, i) => ({
      _id: `${p}-${String(i).padStart(3, '0')}`, n: i, side: p, tags: [`t${i % 3}`],
      nested: { i, s: 'x'.repeat(i % 5), f: i / 4 } }));
    docs.push({ _id: `${p}-values`, str: 'ünïcødé ✓ "q" \\ \n\t', nul: null, t: true, f: false,
                empty: {}, arr: [], nums: [0, -42, 0.1, 1e21, 2 ** 53, -1.5e-7] });
    if (p === 'p') {  // docs the next tests edit on every side
      for (let i = 0; i < 10; i++) docs.push({ _id: `s${i}`, n: i });
    }
    const bulk = await h.json('POST', `/${db}/_bulk_docs`, { docs });
    assert.equal(bulk.filter((r) => r.ok).length, docs.length, `_bulk_docs: ${JSON.stringify(bulk)}`);
    for (let k = 1; k <= 3; k++) await e.put(`${p}-000`, { n: 1000 * k });
    await e.remove(`${p}-001`);
    const d2 = await h.json('GET', docPath(db, `${p}-002`));
    await h.json('PUT', docPath(db, `${p}-002`), { ...d2, _deleted: true, why: 'gone' });
    await e.remove(`${p}-003`);
    await h.json('PUT', docPath(db, `${p}-003`), { again: true });  // recreated
    for (const id of [`${p} with space`, `${p}/slash`, `${p}-ünïcødé`, `${p}+amp&eq=q?#`]) {
      await h.json('PUT', docPath(db, id), { id });
    }
    await e.put('_design/app', { views: { [p]: { map: 'function (doc) { emit(doc.n); }' } } });
    await h.json('PUT', `/${db}/_local/${p}-only`, { secret: p });
    await e.put('both-new', { created_on: p });  // two different 1- revs
    await e.branches(branchDocs(`nx-${p}`, [
      { revs: [hex('a'), hex('0')] },
      { revs: [hex('b'), hex('0')] },
      { revs: [hex('c'), hex('d'), hex('0')], deleted: true },
    ]));
  }
  // One doc whose branches are split between the two servers: both know
  // 2-b; only pouchdb-server knows 2-a, only divan 3-e.
  await editor(ctx.hp, ORIGIN).branches(branchDocs('nx-split', [
    { revs: [hex('a'), hex('0')] }, { revs: [hex('b'), hex('0')] }]));
  await editor(ctx.hd, REPLICA).branches(branchDocs('nx-split', [
    { revs: [hex('b'), hex('0')] }, { revs: [hex('e'), hex('f'), hex('0')] }]));
}

// 2. `divan replicate` pulls pouchdb-server's database into divan: every
// revision pouchdb-server has is then on divan too.
async function pullTest(ctx) {
  needs(ctx, 'seed');
  const { stats, summary } = await pullWithCli(ctx);
  assert.ok(stats.docs_written > 0, `nothing written: ${JSON.stringify(stats)}`);
  assert.equal(stats.docs_written, stats.missing_found, `history: ${JSON.stringify(stats)}`);
  ctx.note(`divan replicate wrote ${summary.written} revisions to divan`);
  // pouchdb-server's leaves are all on divan, with the same history.
  const st = await assertLeavesIncluded(sides(ctx, ['pouchdb-server', 'divan']));
  assert.deepEqual(st.divan['nx-split'].leaves.map((l) => l._rev),
                   [`2-${hex('a')}`, `2-${hex('b')}`, `3-${hex('e')}`], 'nx-split on divan');
  const local = await ctx.hd.request('GET', `/${REPLICA}/_local/p-only`);
  assert.equal(local.status, 404, `_local docs must not replicate: ${local.what}`);
}

// 3. POST /_replicate pushes divan's database to pouchdb-server (the target
// exists, create_target must tolerate that): every revision divan has is
// then on pouchdb-server too, and after the pull both hold the same.
async function pushTest(ctx) {
  needs(ctx, 'seed');
  const { stats } = await pushWithReplicate(ctx);
  assert.ok(stats.docs_written > 0, `nothing written: ${JSON.stringify(stats)}`);
  ctx.note(`POST /_replicate wrote ${stats.docs_written} revisions to pouchdb-server`);
  await assertLeavesIncluded(sides(ctx, ['divan', 'pouchdb-server']));
  needs(ctx, 'pull');  // then the two hold the same
  await assertSameDocsAcross(sides(ctx, ['divan', 'pouchdb-server']));
  const local = await ctx.hp.request('GET', `/${ORIGIN}/_local/d-only`);
  assert.equal(local.status, 404, `_local docs must not replicate: ${local.what}`);
}

// 4. PouchDB's client syncs with divan; then all three agree.
async function clientTest(ctx) {
  needs(ctx, 'push');
  await ctx.client.put({ _id: 'c-000', side: 'client' });
  await ctx.client.put({ _id: 'both-new', created_on: 'client' });
  await ctx.client.put({ _id: '_local/c-only', secret: 'c' });
  const res = await syncClient(ctx);
  assert.equal(res.push.docs_written, 2, `sync push: ${JSON.stringify(res.push)}`);
  await pushWithReplicate(ctx);  // the client's docs on to pouchdb-server
  const st = await assertSameDocsAcross(sides(ctx));
  const d = st.divan;
  assert.equal(d['both-new'].conflicts.length, 2, `both-new: ${JSON.stringify(d['both-new'])}`);
  assert.equal(d['nx-split'].conflicts.length, 2, `nx-split: ${JSON.stringify(d['nx-split'])}`);
  assert.equal(d['nx-split'].rev, `3-${hex('e')}`, `nx-split: ${JSON.stringify(d['nx-split'])}`);
  for (const id of ['nx-p', 'nx-d']) {
    assert.equal(d[id].rev, `2-${hex('b')}`, `${id}: ${JSON.stringify(d[id])}`);
    assert.deepEqual(d[id].conflicts, [`2-${hex('a')}`], `${id}: ${JSON.stringify(d[id])}`);
    assert.equal(d[id].leaves.length, 3, `${id}: ${JSON.stringify(d[id])}`);
  }
  for (const [h, db] of [[ctx.hd, REPLICA], [ctx.hp, ORIGIN]]) {
    const r = await h.request('GET', `/${db}/_local/c-only`);
    assert.equal(r.status, 404, `_local docs must not replicate: ${r.what}`);
  }
}

// 5. The docs s0..s9 and a new one are edited differently on the three
// (edits, longer branches, deletions, a recreation, new_edits=false
// branches); after pull, sync and push, all three agree on every winner,
// _conflicts and leaves, and the winners are CouchDB's.
async function conflictTest(ctx) {
  needs(ctx, 'client');
  const dv = editor(ctx.hd, REPLICA);
  const ps = editor(ctx.hp, ORIGIN);
  const cl = clientEditor(ctx.client);
  const rev = {};
  rev.s0 = [await dv.put('s0', { on: 'divan' }), await ps.put('s0', { on: 'ps' })];
  await dv.put('s1', { on: 'divan' });  // pouchdb-server's branch is longer
  await ps.put('s1', { on: 'ps' });
  rev.s1 = await ps.put('s1', { on: 'ps', again: true });
  rev.s2 = [await dv.put('s2', { on: 'divan' }), await ps.put('s2', { on: 'ps' }),
            await cl.put('s2', { on: 'client' })];  // three ways
  await dv.remove('s3');  // the edit beats the deletion
  rev.s3 = await ps.put('s3', { on: 'ps' });
  await dv.remove('s4');  // deleted everywhere
  await ps.remove('s4');
  await cl.remove('s4');
  await cl.remove('s5');  // the edit beats the deletion
  rev.s5 = await dv.put('s5', { on: 'divan' });
  rev.s6 = await cl.put('s6', { on: 'client' });  // no conflict
  await ps.remove('s7');  // deleted on one side only
  await dv.remove('s8');  // recreated on divan on top of its tombstone
  rev.s8 = await dv.put('s8', { on: 'divan', recreated: true });
  await ps.put('s8', { on: 'ps' });
  // s9: branches grafted with new_edits=false onto its first revision, one
  // per server, the client's a longer interactive branch.
  const s9 = await ctx.hp.json('GET', `/${ORIGIN}/s9?revs=true`);
  const root = s9._revisions.ids[s9._revisions.ids.length - 1];
  await ps.branches(branchDocs('s9', [{ revs: [hex('7'), root] }]));
  await dv.branches(branchDocs('s9', [{ revs: [hex('8'), hex('9'), root] }]));
  await cl.put('s9', { on: 'client' });
  await cl.put('s9', { on: 'client', again: true });
  rev.s9 = await cl.put('s9', { on: 'client', third: true });
  rev.fresh = [await ps.put('fresh', { on: 'ps' }), await cl.put('fresh', { on: 'client' })];

  await pullWithCli(ctx);
  await syncClient(ctx);
  await pushWithReplicate(ctx);
  const st = (await assertSameDocsAcross(sides(ctx))).divan;

  const expect = (id, cond, what) => assert.ok(cond, `${id}: ${what}; state: ${JSON.stringify(st[id])}`);
  expect('s0', rev.s0.includes(st.s0.rev) && st.s0.conflicts.length === 1, 'one conflict');
  expect('s1', st.s1.rev === rev.s1 && st.s1.conflicts.length === 1, 'the longer branch wins');
  expect('s2', rev.s2.includes(st.s2.rev) && st.s2.conflicts.length === 2, 'two conflicts');
  expect('s3', st.s3.rev === rev.s3 && !st.s3.deleted && st.s3.conflicts.length === 0 &&
         st.s3.leaves.length === 2, 'edit beats deletion');
  // (pouchdb-server and the client make the same deterministic rev for the
  // same deletion, so there may be two tombstones rather than three.)
  expect('s4', st.s4.deleted && st.s4.leaves.length >= 2 && st.s4.leaves.every((l) => l._deleted),
         'only tombstones');
  expect('s5', st.s5.rev === rev.s5 && st.s5.leaves.length === 2, 'edit beats deletion');
  expect('s6', st.s6.rev === rev.s6 && st.s6.leaves.length === 1, 'no conflict');
  expect('s7', st.s7.deleted && st.s7.leaves.length === 1, 'deleted');
  expect('s8', st.s8.rev === rev.s8 && st.s8.conflicts.length === 1, 'recreated doc wins');
  expect('s9', st.s9.rev === rev.s9 && st.s9.conflicts.length === 2, 'client branch wins');
  expect('fresh', rev.fresh.includes(st.fresh.rev) && st.fresh.conflicts.length === 1, 'one conflict');
  ctx.conflicts = st;
}

// 6. Conflicts resolved on pouchdb-server (s0, s2) and in the client (s1)
// reach everyone.
async function resolveTest(ctx) {
  needs(ctx, 'conflicts');
  const st = ctx.conflicts;
  const ps = editor(ctx.hp, ORIGIN);
  await ps.remove('s0', st.s0.conflicts[0]);
  for (const r of st.s2.conflicts) await ps.remove('s2', r);
  await ctx.client.remove('s1', st.s1.conflicts[0]);
  await pullWithCli(ctx);
  await syncClient(ctx);
  await pushWithReplicate(ctx);
  const after = (await assertSameDocsAcross(sides(ctx))).divan;
  for (const id of ['s0', 's1', 's2']) {
    assert.deepEqual(after[id].conflicts, [], `${id} still in conflict: ${JSON.stringify(after[id])}`);
    assert.equal(after[id].rev, st[id].rev, `${id}: the winner changed: ${JSON.stringify(after[id])}`);
  }
}

// 7. Running the same replications again transfers nothing.
async function againTest(ctx) {
  needs(ctx, 'resolve');
  // The push of the last test wrote to pouchdb-server: revisions divan
  // already has, which this run checks and finds present.
  const first = await pullWithCli(ctx);
  const show = (r) => JSON.stringify(r.stats);
  assert.equal(first.summary.written, 0, `divan replicate after everything converged: ${show(first)}`);
  assert.equal(first.stats.docs_read, 0, `divan replicate after everything converged: ${show(first)}`);
  // Run at once again, it starts at its checkpoint and has nothing to check.
  const cli = await pullWithCli(ctx);
  assert.equal(cli.summary.written, 0, `second divan replicate: ${show(cli)}`);
  assert.equal(cli.stats.docs_written, 0, `second divan replicate: ${show(cli)}`);
  assert.equal(cli.stats.missing_checked, 0, `second divan replicate: ${show(cli)}`);
  assert.deepEqual(cli.stats.start_last_seq, first.stats.end_last_seq,
                   `second divan replicate did not start at the checkpoint of the first: ${show(cli)}`);
  const push = await pushWithReplicate(ctx);
  assert.equal(push.stats.docs_written, 0, `second POST /_replicate: ${push.what}`);
  const sync = await syncClient(ctx);
  assert.equal(sync.push.docs_written + sync.pull.docs_written, 0,
               `second sync: ${JSON.stringify({ push: sync.push, pull: sync.pull })}`);
  await assertSameDocsAcross(sides(ctx));
}

// --------------------------------------------------------------------- main

runMain(async (tmp, atExit) => {
  const divan = await starting('divan', () => startDivan(path.join(tmp, 'divan')));
  atExit(() => divan.stop());
  const ps = await starting('pouchdb-server', () => startPouchDBServer(path.join(tmp, 'pouchdb-server')));
  atExit(() => ps.stop());
  const client = new PouchDB(path.join(tmp, 'client'));
  atExit(() => client.close().catch(() => {}));
  // Node keeps idle HTTP connections open (keep-alive); close ours before
  // the servers stop.
  atExit(() => require('node:http').globalAgent.destroy());
  console.log(`# divan at ${divan.url}, pouchdb-server ${ps.version} at ${ps.url}, ` +
              `pouchdb ${PouchDB.version}, node ${process.version}`);
  const log = new RequestLog(PouchDB.fetch);
  const ctx = {
    divan, ps, log, client,
    hd: new Http(divan.url),
    hp: new Http(ps.url),
    remote: new PouchDB(`${divan.url}/${REPLICA}`, { fetch: log.fetch, skip_setup: true }),
    done: new Set(),
    note: (text) => console.log(`#    ${text}`),
  };
  const step = (key, name, fn) => ({ name, fn: async () => { await fn(ctx); ctx.done.add(key); } });
  const servers = {
    exited: () => divan.exited() ||
      (ps.exited() ? { 'pouchdb-server': ps.exited() } : null),
    logTail: (n) => `${divan.logTail(n)}\n  --- pouchdb-server's log:\n${ps.logTail(n)}`,
  };
  return runTests([
    step('seed', 'divan and pouchdb-server get docs, updates, deletions and branches', seedTest),
    step('pull', 'divan replicate pulls pouchdb-server into divan', pullTest),
    step('push', 'POST /_replicate on divan pushes divan to pouchdb-server', pushTest),
    step('client', 'PouchDB\'s client syncs with divan; all three agree', clientTest),
    step('conflicts', 'conflicting edits on all three: same winners and _conflicts everywhere',
         conflictTest),
    step('resolve', 'conflicts resolved on pouchdb-server and in the client reach everyone',
         resolveTest),
    step('again', 'the same replications again transfer nothing', againTest),
  ], { server: servers, log });
});
