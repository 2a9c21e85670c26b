// PouchDB interoperability: the real npm package `pouchdb` (version pinned
// in package-lock.json) replicates with the real `divan` binary.
//
//   node pouchdb_test.js        (DIVAN_BIN=<builddir>/http/divan; meson sets it)
//
// Local databases use PouchDB's leveldb adapter in a fresh temp folder;
// divan runs on a free loopback port with its own data folder. Each test
// uses its own databases. A test also fails if PouchDB got an error answer
// from divan that a correct CouchDB would not give (harness.js). Prints one
// line per test and "interop: N passed, N failed"; exits 1 on any failure.
'use strict';

const assert = require('node:assert/strict');
const path = require('node:path');
const fs = require('node:fs');
const { startDivan, RequestLog, Http, docPath, waitFor, runTests, loadPouchDB, runMain, starting } =
  require('./harness');
const { localIds, assertSameDocs } = require('./doc_state');

const PouchDB = loadPouchDB();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const hex = (c) => c.repeat(32);  // a made-up rev hash

function assertReplicated(res, what) {
  assert.equal(res.ok, true, `${what}: ok is not true: ${JSON.stringify(res)}`);
  assert.equal(res.doc_write_failures, 0, `${what}: doc_write_failures: ${JSON.stringify(res)}`);
  assert.deepEqual(res.errors, [], `${what}: errors: ${JSON.stringify(res.errors)}`);
}

// The id of the checkpoint doc PouchDB wrote to divan's `db` in the
// requests logged since `mark` (`_local/<id>`).
function checkpointId(log, mark, db) {
  const put = log.since(mark).find((e) => e.method === 'PUT' && e.status >= 200 &&
                                         e.status < 300 && e.path.startsWith(`/${db}/_local/`));
  assert.ok(put, `PouchDB wrote no checkpoint doc to divan's ${db}; requests: ` +
            log.since(mark).map((e) => `${e.method} ${e.raw} ${e.status}`).join(', '));
  return put.path.slice(`/${db}/`.length);
}

// The checkpoint doc on divan and in the local PouchDB agree.
async function assertCheckpointsAgree(ctx, local, db, id) {
  const remote = await ctx.http.json('GET', docPath(db, id));
  const mine = await local.get(id);
  assert.equal(remote.session_id, mine.session_id,
               `checkpoint ${id}: session_id differs: divan ${JSON.stringify(remote)}, ` +
               `local ${JSON.stringify(mine)}`);
  assert.deepEqual(remote.last_seq, mine.last_seq, `checkpoint ${id}: last_seq differs`);
  assert.equal(remote.replicator, 'pouchdb', `checkpoint ${id} on divan: ${JSON.stringify(remote)}`);
  assert.ok(/^0-\d+$/.test(remote._rev), `checkpoint ${id} on divan has _rev ${remote._rev}`);
  return remote;
}

// -------------------------------------------------------------------- tests

// 1. A local PouchDB with updates, deletions, a recreated doc, odd ids, a
// design doc and a _local doc replicates to divan; divan then holds the same
// documents with the same revs and histories, but not the _local doc.
async function pushTest(ctx) {
  const db = 'push';
  const local = ctx.local(db);
  const remote = ctx.remote(db);
  const docs = [];
  for (let i = 0; i < 120; i++) {
    docs.push({ _id: `doc-${String(i).padStart(3, '0')}`, n: i, even: i % 2 === 0,
                tags: [`t${i % 5}`], nested: { i, s: 'x'.repeat(i % 7) } });
  }
  docs.push({ _id: 'values', str: 'ünïcødé ✓ "quoted" \\ back\nslash\ttab', nul: null,
              t: true, f: false, empty: {}, arr: [],
              nums: [0, -42, 0.1, 3.14159, 1e21, 2 ** 53, -1.5e-7] });
  for (const id of ['with space', 'slash/in/id', 'ünïcødé-id', 'plus+amp&eq=q?hash#', 'percent%41']) {
    docs.push({ _id: id, id });
  }
  for (const r of await local.bulkDocs(docs)) assert.ok(r.ok, JSON.stringify(r));

  let d = await local.get('doc-000');  // three updates
  for (let k = 0; k < 3; k++) { d.n += 1000; d._rev = (await local.put(d)).rev; }
  d = await local.get('doc-001');
  d.updated = true;
  await local.put(d);
  await local.remove(await local.get('doc-002'));
  d = await local.get('doc-003');  // deleted with a body kept
  d._deleted = true;
  d.why = 'gone';
  await local.put(d);
  await local.remove(await local.get('doc-004'));  // deleted, then recreated
  await local.put({ _id: 'doc-004', n: 'again' });
  const ddoc = { _id: '_design/app',
                 views: { by_n: { map: 'function (doc) { if (doc.n !== undefined) emit(doc.n); }' } } };
  ddoc._rev = (await local.put(ddoc)).rev;
  ddoc.views.even = { map: 'function (doc) { if (doc.even) emit(doc._id); }' };
  await local.put(ddoc);
  await local.put({ _id: '_local/settings', theme: 'dark' });

  const mark = ctx.log.mark();
  const res = await local.replicate.to(remote);
  assertReplicated(res, 'push');
  const ids = await localIds(local);
  assert.equal(res.docs_read, ids.length, `push: docs_read ${res.docs_read}, ${ids.length} docs`);
  assert.equal(res.docs_written, ids.length, `push: docs_written ${res.docs_written}`);

  const states = await assertSameDocs(local, ctx.http, db);
  const settings = await ctx.http.request('GET', `/${db}/_local/settings`);
  assert.equal(settings.status, 404, `_local docs must not replicate: ${settings.what}`);
  const info = await ctx.http.json('GET', `/${db}`);
  const linfo = await local.info();
  assert.equal(info.doc_count, linfo.doc_count, `doc_count: ${JSON.stringify(info)}`);
  const deleted = Object.values(states).filter((st) => st.deleted).length;
  assert.equal(deleted, 2, 'doc-002 and doc-003 are deleted');
  assert.equal(info.doc_del_count, deleted, `doc_del_count: ${JSON.stringify(info)}`);
  await assertCheckpointsAgree(ctx, local, db, checkpointId(ctx.log, mark, db));
}

// 2. Documents written to divan over HTTP (bulk, updates, a deletion, odd
// ids, a design doc, a _local doc, and a doc with conflicting branches
// written with new_edits=false) replicate to a fresh local PouchDB.
async function pullTest(ctx) {
  const db = 'pull';
  const h = ctx.http;
  await h.json('PUT', `/${db}`);
  const docs = [];
  for (let i = 0; i < 130; i++) docs.push({ _id: `p-${String(i).padStart(3, '0')}`, n: i });
  const bulk = await h.json('POST', `/${db}/_bulk_docs`, { docs });
  assert.equal(bulk.length, docs.length, `_bulk_docs answered ${bulk.length} results`);

  let r = await h.json('PUT', `/${db}/p-upd`, { v: 1 });
  r = await h.json('PUT', `/${db}/p-upd`, { v: 2, _rev: r.rev });
  await h.json('PUT', `/${db}/p-upd`, { v: 3, _rev: r.rev });
  r = await h.json('PUT', `/${db}/p-del`, { v: 1 });
  await h.json('DELETE', `/${db}/p-del?rev=${r.rev}`);
  for (const id of ['with space', 'slash/in/id', 'ünïcødé-id', 'plus+amp&eq=q?hash#']) {
    await h.json('PUT', docPath(db, id), { id });
  }
  await h.json('PUT', `/${db}/_design/app`, { views: { v: { map: 'function (doc) { emit(doc.n); }' } } });
  await h.json('PUT', `/${db}/_local/x`, { secret: true });
  const base = { start: 1, ids: [hex('0')] };
  const branches = [
    { _id: 'p-conf', _rev: `2-${hex('a')}`, _revisions: { start: 2, ids: [hex('a'), ...base.ids] }, v: 'a' },
    { _id: 'p-conf', _rev: `2-${hex('b')}`, _revisions: { start: 2, ids: [hex('b'), ...base.ids] }, v: 'b' },
    { _id: 'p-conf', _rev: `3-${hex('c')}`, _deleted: true,
      _revisions: { start: 3, ids: [hex('c'), hex('d'), ...base.ids] } },
  ];
  const nr = await h.json('POST', `/${db}/_bulk_docs`, { docs: branches, new_edits: false });
  assert.deepEqual(nr, [], `_bulk_docs new_edits=false must answer [] on success`);

  const local = ctx.local(db);
  const mark = ctx.log.mark();
  const res = await local.replicate.from(ctx.remote(db));
  assertReplicated(res, 'pull');
  const states = await assertSameDocs(local, h, db);
  const leaves = Object.values(states).reduce((n, s) => n + s.leaves.length, 0);
  assert.equal(res.docs_written, leaves, `pull: docs_written ${res.docs_written}, ${leaves} leaves`);
  assert.deepEqual(states['p-conf'].conflicts, [`2-${hex('a')}`]);
  assert.equal(states['p-conf'].rev, `2-${hex('b')}`);
  await assert.rejects(local.get('_local/x'), (e) => e.status === 404,
                       '_local docs on divan must not replicate');
  const reqs = ctx.log.since(mark);
  assert.ok(reqs.some((e) => e.method === 'POST' && e.path === `/${db}/_bulk_get` && e.status === 200),
            'PouchDB did not fetch the docs with _bulk_get');
  assert.ok(!reqs.some((e) => e.method === 'GET' && 'open_revs' in e.query),
            'PouchDB fell back to GET ?open_revs instead of _bulk_get');
  await assertCheckpointsAgree(ctx, local, db, checkpointId(ctx.log, mark, db));
}

// 3. Docs replicated both ways are then edited differently on both sides
// (some deleted on one side or both); after syncing both ways, both sides
// agree on every doc's winner, _conflicts, deleted state and leaves; and
// resolving conflicts on either side reaches the other.
async function conflictTest(ctx) {
  const db = 'conflicts';
  const h = ctx.http;
  const local = ctx.local(db);
  const remote = ctx.remote(db);
  const ids = Array.from({ length: 10 }, (_, i) => `k${i}`);
  await local.bulkDocs(ids.map((id, i) => ({ _id: id, n: i })));
  assertReplicated(await local.replicate.to(remote), 'first push');
  assertReplicated(await local.replicate.from(remote), 'first pull');
  await assertSameDocs(local, h, db);

  const localEdit = async (id, body) => {
    const doc = await local.get(id);
    return (await local.put({ ...doc, ...body })).rev;
  };
  const localDelete = async (id) => (await local.remove(await local.get(id))).rev;
  const remoteEdit = async (id, body) => {
    const doc = await h.json('GET', docPath(db, id));
    return (await h.json('PUT', docPath(db, id), { ...doc, ...body })).rev;
  };
  const remoteDelete = async (id) => {
    const doc = await h.json('GET', docPath(db, id));
    return (await h.json('DELETE', `${docPath(db, id)}?rev=${doc._rev}`)).rev;
  };

  const rev = {};
  rev.k0 = [await localEdit('k0', { side: 'local' }), await remoteEdit('k0', { side: 'remote' })];
  await localEdit('k1', { side: 'local' });  // remote's branch is longer
  await remoteEdit('k1', { side: 'remote' });
  rev.k1 = await remoteEdit('k1', { side: 'remote', again: true });
  await localEdit('k2', { side: 'local' });  // local's branch is longer
  rev.k2 = await localEdit('k2', { side: 'local', again: true });
  await remoteEdit('k2', { side: 'remote' });
  await localDelete('k3');  // the edit beats the deletion
  rev.k3 = await remoteEdit('k3', { side: 'remote' });
  rev.k4 = await localEdit('k4', { side: 'local' });
  await remoteDelete('k4');
  await localDelete('k5');  // deleted on both sides
  await remoteDelete('k5');
  rev.k6 = await localEdit('k6', { side: 'local' });  // no conflicts
  rev.k7 = await remoteEdit('k7', { side: 'remote' });
  await remoteDelete('k8');
  await localDelete('k9');  // recreated locally on top of the tombstone
  rev.k9 = (await local.put({ _id: 'k9', again: true })).rev;
  await remoteEdit('k9', { side: 'remote' });

  const s1 = await local.sync(remote);
  assertReplicated(s1.push, 'sync push');
  assertReplicated(s1.pull, 'sync pull');
  const st = await assertSameDocs(local, h, db);

  const expect = (id, cond, what) => assert.ok(cond, `${id}: ${what}; state: ${JSON.stringify(st[id])}`);
  expect('k0', st.k0.conflicts.length === 1 && rev.k0.includes(st.k0.rev), 'one conflict');
  expect('k1', st.k1.rev === rev.k1 && st.k1.conflicts.length === 1, 'remote branch wins');
  expect('k2', st.k2.rev === rev.k2 && st.k2.conflicts.length === 1, 'local branch wins');
  expect('k3', st.k3.rev === rev.k3 && !st.k3.deleted && st.k3.conflicts.length === 0 &&
         st.k3.leaves.length === 2, 'edit beats deletion');
  expect('k4', st.k4.rev === rev.k4 && !st.k4.deleted && st.k4.conflicts.length === 0 &&
         st.k4.leaves.length === 2, 'edit beats deletion');
  expect('k5', st.k5.deleted && st.k5.leaves.every((l) => l._deleted), 'only tombstones');
  expect('k6', st.k6.rev === rev.k6 && st.k6.leaves.length === 1, 'no conflict');
  expect('k7', st.k7.rev === rev.k7 && st.k7.leaves.length === 1, 'no conflict');
  expect('k8', st.k8.deleted && st.k8.leaves.length === 1, 'deleted');
  expect('k9', st.k9.rev === rev.k9 && st.k9.conflicts.length === 1, 'recreated doc wins');

  // Resolve k0 on divan and k1 locally by deleting the losing revisions.
  await h.json('DELETE', `${docPath(db, 'k0')}?rev=${st.k0.conflicts[0]}`);
  await local.remove('k1', st.k1.conflicts[0]);
  const s2 = await local.sync(remote);
  assertReplicated(s2.push, 'second sync push');
  assertReplicated(s2.pull, 'second sync pull');
  const st2 = await assertSameDocs(local, h, db);
  assert.deepEqual(st2.k0.conflicts, [], `k0 still in conflict: ${JSON.stringify(st2.k0)}`);
  assert.deepEqual(st2.k1.conflicts, [], `k1 still in conflict: ${JSON.stringify(st2.k1)}`);
}

// 4. Replicating again transfers nothing, both ways: PouchDB finds its
// checkpoint on divan and starts from the recorded sequence.
async function noopTest(ctx) {
  const db = 'again';
  const h = ctx.http;
  const local = ctx.local(db);
  const remote = ctx.remote(db);
  await local.bulkDocs(Array.from({ length: 40 }, (_, i) => ({ _id: `l${i}`, i })));
  const p1 = await local.replicate.to(remote);
  assertReplicated(p1, 'first push');
  assert.equal(p1.docs_written, 40);

  let mark = ctx.log.mark();
  const p2 = await local.replicate.to(remote);
  assertReplicated(p2, 'second push');
  assert.equal(p2.docs_read, 0, `second push read docs: ${JSON.stringify(p2)}`);
  assert.equal(p2.docs_written, 0, `second push wrote docs: ${JSON.stringify(p2)}`);
  const pushReqs = ctx.log.since(mark).filter((e) => e.method === 'POST');
  assert.deepEqual(pushReqs.map((e) => e.raw), [],
                   'the second push must not diff or write anything on divan');

  await h.json('POST', `/${db}/_bulk_docs`, {
    docs: Array.from({ length: 30 }, (_, i) => ({ _id: `r${i}`, i })) });
  mark = ctx.log.mark();
  const f1 = await local.replicate.from(remote);
  assertReplicated(f1, 'first pull');
  assert.equal(f1.docs_written, 30, `first pull: ${JSON.stringify(f1)}`);
  const cp = checkpointId(ctx.log, mark, db);
  await assertCheckpointsAgree(ctx, local, db, cp);

  mark = ctx.log.mark();
  const f2 = await local.replicate.from(remote);
  assertReplicated(f2, 'second pull');
  assert.equal(f2.docs_read, 0, `second pull read docs: ${JSON.stringify(f2)}`);
  assert.equal(f2.docs_written, 0, `second pull wrote docs: ${JSON.stringify(f2)}`);
  const changes = ctx.log.since(mark).filter((e) => e.path === `/${db}/_changes`);
  assert.ok(changes.length > 0, 'the second pull read no _changes');
  const since = typeof f1.last_seq === 'object' ? JSON.stringify(f1.last_seq) : String(f1.last_seq);
  assert.equal(changes[0].query.since, since,
               `the second pull must start at the checkpoint (${since}): ${changes[0].raw}`);
  assert.ok(!ctx.log.since(mark).some((e) => e.path.endsWith('/_bulk_get')),
            'the second pull fetched documents');
  ctx.again = { local, last_seq: f2.last_seq };  // for restartTest
}

// 5. Live replication from divan (chained longpolls with heartbeat) picks
// up a doc written to divan afterwards within a few seconds; when idle it
// waits on divan instead of polling; it can be cancelled.
async function liveTest(ctx) {
  const db = 'live';
  const h = ctx.http;
  await h.json('PUT', `/${db}`);
  await h.json('POST', `/${db}/_bulk_docs`, { docs: [{ _id: 'a' }, { _id: 'b' }, { _id: 'c' }] });
  const local = ctx.local(db);
  const mark = ctx.log.mark();
  const rep = local.replicate.from(ctx.remote(db), { live: true, retry: false });
  let failure = null;
  let completed = false;
  rep.on('error', (err) => { failure = err; });
  rep.on('denied', (err) => { failure = err; });
  rep.on('complete', () => { completed = true; });
  const check = () => {
    if (failure) throw new Error(`live replication failed: ${failure.stack || JSON.stringify(failure)}`);
  };
  try {
    await waitFor('the 3 docs on divan to reach the local PouchDB', 10000, async () => {
      check();
      return (await local.allDocs()).rows.length === 3;
    });
    const longpoll = await waitFor('a longpoll _changes request', 5000, () => {
      check();
      return ctx.log.since(mark).find((e) => e.path === `/${db}/_changes` && e.query.feed === 'longpoll');
    });
    assert.equal(longpoll.query.heartbeat, '10000', `longpoll request: ${longpoll.raw}`);

    const idleMark = ctx.log.mark();
    await sleep(1000);  // a measuring window, not a wait for a condition
    const idle = ctx.log.since(idleMark).filter((e) => e.path === `/${db}/_changes`);
    assert.ok(idle.length <= 2, `while idle PouchDB sent ${idle.length} _changes requests in 1 s; ` +
              `divan must hold feed=longpoll open until a change arrives: ` +
              idle.slice(0, 3).map((e) => e.raw).join(', '));

    const t0 = Date.now();
    await h.json('PUT', `/${db}/late`, { late: true });
    await waitFor('the doc written to divan afterwards to reach the local PouchDB', 5000, async () => {
      check();
      return local.get('late').then(() => true, () => false);
    });
    ctx.note(`live replication delivered a new doc in ${Date.now() - t0} ms`);
  } finally {
    rep.cancel();
  }
  await waitFor('the cancelled replication to complete', 5000, () => completed);
  check();
}

// 6. What live replication relies on: a longpoll _changes with a heartbeat
// sends newlines while it waits and answers as soon as a change arrives.
async function heartbeatTest(ctx) {
  const db = 'heartbeat';
  const h = ctx.http;
  await h.json('PUT', `/${db}`);
  await h.json('PUT', `/${db}/first`, {});
  const info = await h.json('GET', `/${db}`);
  const since = typeof info.update_seq === 'object' ? JSON.stringify(info.update_seq) : String(info.update_seq);
  const http = require('node:http');
  const url = new URL(`${ctx.url}/${db}/_changes?feed=longpoll&heartbeat=200&since=${encodeURIComponent(since)}`);
  let body = '';
  let status = 0;
  let ended = false;
  const req = http.get(url, { headers: { Accept: 'application/json' } }, (res) => {
    status = res.statusCode;
    res.on('data', (c) => { body += c.toString('utf8'); });
    res.on('end', () => { ended = true; });
  });
  req.on('error', () => { ended = true; });
  try {
    // CouchDB sends `{"results":[` and a newline, then a newline per
    // heartbeat; a server that holds back the opener sends newlines only.
    await waitFor('heartbeat newlines from an idle longpoll (heartbeat=200)', 3000, () => {
      assert.ok(!ended, `the longpoll ended without a change: ${status} ${JSON.stringify(body)}`);
      return body.split('\n').length > 2;
    });
    assert.equal(status, 200);
    assert.ok(['', '{"results":['].includes(body.replace(/\s/g, '')),
              `the idle longpoll sent more than its opening and heartbeats: ${JSON.stringify(body)}`);
    await h.json('PUT', `/${db}/beat`, { beat: true });
    await waitFor('the longpoll to answer after a change', 5000, () => ended);
    let parsed;
    assert.doesNotThrow(() => { parsed = JSON.parse(body); }, `not JSON: ${JSON.stringify(body)}`);
    assert.deepEqual(parsed.results.map((r) => r.id), ['beat'], `longpoll answer: ${body}`);
  } finally {
    req.destroy();
  }
}

// 7. After all this, divan stops cleanly on SIGTERM.
async function stopTest(ctx) {
  ctx.uuid = (await ctx.http.json('GET', '/')).uuid;
  const t0 = Date.now();
  const e = await ctx.server.stop();
  ctx.note(`divan stopped ${Date.now() - t0} ms after SIGTERM`);
  assert.deepEqual(e, { code: 0, signal: null }, `divan's exit on SIGTERM: ${JSON.stringify(e)}`);
}

// 8. Restarted on the same data folder (on another port), divan keeps its
// uuid and data, so PouchDB's replication id and checkpoint still hold: a
// pull resumes where the last one stopped.
async function restartTest(ctx) {
  assert.ok(ctx.again, 'needs the "second replication" test to have passed');
  assert.ok(ctx.server.exited(), 'needs the "stops cleanly" test to have stopped divan');
  ctx.restart(await startDivan(ctx.dataDir));
  const h = ctx.http;
  assert.equal((await h.json('GET', '/')).uuid, ctx.uuid, 'the server uuid changed on restart');
  const db = 'again';
  const { local, last_seq: lastSeq } = ctx.again;
  let mark = ctx.log.mark();
  const r1 = await local.replicate.from(ctx.remote(db));
  assertReplicated(r1, 'pull after restart');
  assert.equal(r1.docs_read, 0, `pull after restart read docs: ${JSON.stringify(r1)}`);
  const changes = ctx.log.since(mark).filter((e) => e.path === `/${db}/_changes`);
  const since = typeof lastSeq === 'object' ? JSON.stringify(lastSeq) : String(lastSeq);
  assert.ok(changes.length > 0 && changes[0].query.since === since,
            `the pull after restart must start at the checkpoint (${since}): ` +
            changes.map((e) => e.raw).join(', '));
  await h.json('PUT', `/${db}/after-restart`, { ok: true });
  mark = ctx.log.mark();
  const r2 = await local.replicate.from(ctx.remote(db));
  assertReplicated(r2, 'second pull after restart');
  assert.equal(r2.docs_written, 1, `second pull after restart: ${JSON.stringify(r2)}`);
  await assertSameDocs(local, h, db);
}

// --------------------------------------------------------------------- main

runMain(async (tmp, atExit) => {
  const dataDir = path.join(tmp, 'data');
  let server = await starting('divan', () => startDivan(dataDir));
  atExit(() => server.stop());  // the server of the moment (restartTest replaces it)
  console.log(`# pouchdb ${PouchDB.version} against divan at ${server.url}, node ${process.version}`);
  const log = new RequestLog(PouchDB.fetch);
  const ctx = {
    dataDir, log,
    remote: (name) => new PouchDB(`${ctx.url}/${name}`, { fetch: log.fetch }),
    local: (name) => new PouchDB(path.join(tmp, `local-${name}`)),
    note: (text) => console.log(`#    ${text}`),
    restart: (s) => {  // a new divan process replaces the old one
      server = s;
      ctx.server = s;
      ctx.url = s.url;
      ctx.http = new Http(s.url);
    },
  };
  ctx.restart(server);
  return runTests([
    { name: 'push: a local PouchDB replicates to divan', fn: () => pushTest(ctx) },
    { name: 'pull: docs written to divan replicate to a local PouchDB', fn: () => pullTest(ctx) },
    { name: 'conflicts on both sides: same winners, _conflicts and deletions after sync',
      fn: () => conflictTest(ctx), timeoutMs: 25000 },
    { name: 'a second replication transfers nothing, both ways', fn: () => noopTest(ctx) },
    { name: 'live replication from divan picks up a later doc, then cancels', fn: () => liveTest(ctx) },
    { name: 'longpoll _changes sends heartbeats, answers on the first change', fn: () => heartbeatTest(ctx) },
    { name: 'divan stops cleanly on SIGTERM', fn: () => stopTest(ctx) },
    { name: 'after a restart, a pull resumes from its checkpoint', fn: () => restartTest(ctx) },
  ], { server: { exited: () => server.exited(), logTail: (n) => server.logTail(n) }, log });
});
