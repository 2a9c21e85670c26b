// PouchDB against a secured divan (issue 5): the real npm package `pouchdb`
// replicates with the real `divan` binary started with an admin from a
// config file, so no request is an admin's unless it says so.
//
//   node auth_test.js        (DIVAN_BIN=<builddir>/http/divan; meson sets it)
//
// The admin creates the database `private`, whose _security names the user
// `alice` (in `_users`) as its only member; `bob` is a user who is not a
// member. Then PouchDB, as alice, replicates both ways with credentials in
// its options, in the URL, and through a session cookie added by its
// `fetch` option; conflicts made on both sides end with the same winners
// and _conflicts on both, and a second replication transfers nothing.
// Anonymous, bob and a wrong password are refused (401/403) and write
// nothing; alice's design doc is denied while her other docs arrive.
// Local databases use PouchDB's leveldb adapter in a fresh temp folder.
// Each test builds on the setup test. Prints one line per test and
// "interop: N passed, N failed"; exits 1 on any failure.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startDivan, RequestLog, Http, docPath, runTests, notRun, loadPouchDB, runMain, starting } =
  require('./harness');
const { assertSameDocs } = require('./doc_state');

const PouchDB = loadPouchDB();

const DB = 'private';
const ADMIN = { username: 'admin', password: 'admin-secret' };
const ALICE = { username: 'alice', password: 'alice pw:ü' };  // a space, a colon, non-ASCII
const BOB = { username: 'bob', password: 'bob-pw' };

// Every request to divan's `private` (not to `/` or `_session`).
const toDb = (e) => e.path === `/${DB}` || e.path.startsWith(`/${DB}/`);

// ----------------------------------------------------------------- helpers

const basic = ({ username, password }) =>
  'Basic ' + Buffer.from(`${username}:${password}`, 'utf8').toString('base64');

// harness.js's Http that sends `headers` (credentials) with every request.
class HttpAs extends Http {
  constructor(baseUrl, headers) {
    super(baseUrl);
    this.headers = headers;
  }

  request(method, urlPath, body, headers = {}) {
    return super.request(method, urlPath, body, { ...this.headers, ...headers });
  }
}

function assertReplicated(res, what) {
  assert.equal(res.ok, true, `${what}: ok is not true: ${JSON.stringify(res)}`);
  assert.equal(res.doc_write_failures, 0, `${what}: doc_write_failures: ${JSON.stringify(res)}`);
  assert.deepEqual(res.errors, [], `${what}: errors: ${JSON.stringify(res.errors)}`);
}

// Pushes `local` to `remote`, then pulls it back; returns both results.
async function pushPull(local, remote, what) {
  const push = await local.replicate.to(remote);
  assertReplicated(push, `${what}: push`);
  const pull = await local.replicate.from(remote);
  assertReplicated(pull, `${what}: pull`);
  return { push, pull };
}

// Replicating again moves nothing: PouchDB reads the checkpoints it wrote
// under the same credentials and starts where it stopped. `lastPull` is
// the result of the last pull. A pull again reads _changes from that
// pull's last_seq and fetches nothing; a push again may diff the docs that
// pull wrote locally (they are newer than the push checkpoint) but writes
// nothing; a third push sends no POST at all.
async function assertNothingMoves(ctx, local, remote, lastPull, what) {
  const moves = (mark, paths) => ctx.log.since(mark).filter((e) =>
    e.method === 'POST' && paths.some((p) => e.path === `/${DB}/${p}`));
  const shown = (reqs) => reqs.map((e) => `${e.method} ${e.raw} -> ${e.status}`);
  const nothing = (res, dir) => {
    assertReplicated(res, `${what}: ${dir}`);
    assert.equal(res.docs_read, 0, `${what}: ${dir} read docs: ${JSON.stringify(res)}`);
    assert.equal(res.docs_written, 0, `${what}: ${dir} wrote docs: ${JSON.stringify(res)}`);
  };

  let mark = ctx.log.mark();
  nothing(await local.replicate.from(remote), 'the pull again');
  const changes = ctx.log.since(mark).filter((e) => e.path === `/${DB}/_changes`);
  const since = typeof lastPull.last_seq === 'object' ? JSON.stringify(lastPull.last_seq)
    : String(lastPull.last_seq);
  assert.ok(changes.length > 0 && changes[0].query.since === since,
            `${what}: the pull again must read _changes from its checkpoint (${since}): ` +
            changes.map((e) => e.raw).join(', '));
  assert.deepEqual(shown(moves(mark, ['_bulk_get', '_all_docs'])), [],
                   `${what}: the pull again fetched documents`);

  mark = ctx.log.mark();
  nothing(await local.replicate.to(remote), 'the push again');
  assert.deepEqual(shown(moves(mark, ['_bulk_docs'])), [], `${what}: the push again wrote documents`);
  mark = ctx.log.mark();
  nothing(await local.replicate.to(remote), 'the third push');
  assert.deepEqual(shown(moves(mark, ['_revs_diff', '_bulk_docs'])), [],
                   `${what}: the third push diffed or wrote documents; its checkpoint was not used`);
}

// Edits on the local PouchDB and (as `httpc`) on divan.
function editors(local, httpc) {
  return {
    localEdit: async (id, body) => {
      const doc = await local.get(id);
      return (await local.put({ ...doc, ...body })).rev;
    },
    localDelete: async (id) => (await local.remove(await local.get(id))).rev,
    remoteEdit: async (id, body) => {
      const doc = await httpc.json('GET', docPath(DB, id));
      return (await httpc.json('PUT', docPath(DB, id), { ...doc, ...body })).rev;
    },
    remoteDelete: async (id) => {
      const doc = await httpc.json('GET', docPath(DB, id));
      return (await httpc.json('DELETE', `${docPath(DB, id)}?rev=${doc._rev}`)).rev;
    },
  };
}

// What the admin sees of `private`: its counts, update_seq and _local docs.
async function dbSnapshot(ctx) {
  const info = await ctx.admin.json('GET', `/${DB}`);
  const locals = await ctx.admin.json('GET', `/${DB}/_local_docs`);
  return { doc_count: info.doc_count, doc_del_count: info.doc_del_count,
           update_seq: info.update_seq, local_docs: locals.rows.map((r) => r.id).sort() };
}

// -------------------------------------------------------------------- tests

// 1. The server runs only with an admin; the one in the config file was
// hashed in place on start, and Basic credentials make a request the
// admin's while one without stays anonymous.
async function adminTest(ctx) {
  const refused = await startDivan(path.join(ctx.tmp, 'no-admin'), []).then(
    async (s) => { await s.stop(); return null; },
    (err) => err);
  assert.ok(refused, 'divan serve started without an admin and without --insecure-admin-party');
  assert.match(refused.message, /exited/, `divan without an admin: ${refused.message}`);

  const ini = fs.readFileSync(ctx.iniPath, 'utf8');
  assert.ok(!ini.includes(ADMIN.password), `the admin's clear password is still in the config:\n${ini}`);
  assert.match(ini, /^admin = -pbkdf2[:-]/m, `the admin's password was not hashed in place:\n${ini}`);

  const mine = await ctx.admin.json('GET', '/_session');
  assert.equal(mine.userCtx.name, ADMIN.username, `GET /_session as the admin: ${JSON.stringify(mine)}`);
  assert.ok(mine.userCtx.roles.includes('_admin'), `GET /_session as the admin: ${JSON.stringify(mine)}`);
  const anon = await ctx.anon.json('GET', '/_session');
  assert.equal(anon.userCtx.name, null, `GET /_session without credentials: ${JSON.stringify(anon)}`);
  const put = await ctx.anon.request('PUT', '/anonymous-db');
  assert.equal(put.status, 401, `an anonymous PUT /db: ${put.what}`);
}

// 2. The admin creates `private` (admin-only, as CouchDB 3 makes new
// databases), the users alice and bob in _users, and makes alice the only
// member; alice can then sign in, bob can sign in but is no member.
async function setupTest(ctx) {
  const h = ctx.admin;
  await h.json('PUT', `/${DB}`);
  const sec = await h.json('GET', `/${DB}/_security`);
  assert.deepEqual(sec, { members: { roles: ['_admin'] }, admins: { roles: ['_admin'] } },
                   `a new database's _security`);
  for (const u of [ALICE, BOB]) {
    await h.json('PUT', `/_users/org.couchdb.user:${u.username}`,
                 { type: 'user', name: u.username, roles: [], password: u.password });
  }
  await h.json('PUT', `/${DB}/_security`, {
    admins: { names: [], roles: [] }, members: { names: [ALICE.username], roles: [] } });
  for (const u of [ALICE, BOB]) {
    const s = await new HttpAs(ctx.url, { Authorization: basic(u) }).json('GET', '/_session');
    assert.deepEqual(s.userCtx, { name: u.username, roles: [] },
                     `GET /_session as ${u.username}: ${JSON.stringify(s)}`);
  }
  ctx.ready = true;
}

// 3. Anyone may sign up in _users (as CouchDB does); the clear password is
// stored as a PBKDF2 hash, the new user can sign in, and only admins give
// roles.
async function signUpTest(ctx) {
  const carol = { username: 'carol', password: 'carol-pw' };
  const id = `org.couchdb.user:${carol.username}`;
  const r = await ctx.anon.request('PUT', `/_users/${id}`,
                                   { type: 'user', name: carol.username, roles: [], password: carol.password });
  assert.equal(r.status, 201, `an anonymous sign-up: ${r.what}`);
  const stored = await ctx.admin.json('GET', `/_users/${id}`);
  assert.equal(stored.password, undefined, `_users keeps the clear password: ${JSON.stringify(stored)}`);
  assert.equal(stored.password_scheme, 'pbkdf2', `stored user: ${JSON.stringify(stored)}`);
  for (const k of ['derived_key', 'salt']) {
    assert.match(String(stored[k]), /^[0-9a-f]{32,}$/, `stored user's ${k}: ${JSON.stringify(stored)}`);
  }
  const s = await new HttpAs(ctx.url, { Authorization: basic(carol) }).json('GET', '/_session');
  assert.equal(s.userCtx.name, carol.username, `GET /_session as carol: ${JSON.stringify(s)}`);
  const boss = await ctx.anon.request('PUT', '/_users/org.couchdb.user:dave',
                                      { type: 'user', name: 'dave', roles: ['boss'], password: 'x' });
  assert.equal(boss.status, 403, `an anonymous sign-up with roles: ${boss.what}`);
}

// 4. Alice's PouchDB with {auth} pushes and pulls; then docs are edited,
// deleted and created on both sides (alice editing divan over HTTP); after
// a push and a pull every doc has the same winner, _conflicts, deletion and
// leaves on both sides, and replicating again moves nothing.
async function authOptionTest(ctx) {
  if (!ctx.ready) throw notRun('needs the setup test to have passed');
  const local = ctx.local('auth-option');
  const remote = new PouchDB(`${ctx.url}/${DB}`, { auth: ALICE, fetch: ctx.log.fetch });
  const ids = Array.from({ length: 8 }, (_, i) => `k${i}`);
  await local.bulkDocs(ids.map((id, i) => ({ _id: id, n: i })));
  await ctx.alice.json('POST', `/${DB}/_bulk_docs`,
                       { docs: ['r0', 'r1', 'r2'].map((id) => ({ _id: id, from: 'divan' })) });
  const first = await pushPull(local, remote, 'first exchange');
  assert.equal(first.push.docs_written, 8, `first push: ${JSON.stringify(first.push)}`);
  assert.equal(first.pull.docs_written, 3, `first pull: ${JSON.stringify(first.pull)}`);
  await assertSameDocs(local, ctx.admin, DB);

  const { localEdit, localDelete, remoteEdit, remoteDelete } = editors(local, ctx.alice);
  const rev = {};
  rev.k0 = [await localEdit('k0', { side: 'local' }), await remoteEdit('k0', { side: 'divan' })];
  await localEdit('k1', { side: 'local' });  // divan's branch is longer
  await remoteEdit('k1', { side: 'divan' });
  rev.k1 = await remoteEdit('k1', { side: 'divan', again: true });
  await localEdit('k2', { side: 'local' });  // the local branch is longer
  rev.k2 = await localEdit('k2', { side: 'local', again: true });
  await remoteEdit('k2', { side: 'divan' });
  await localDelete('k3');  // the edit beats the deletion
  rev.k3 = await remoteEdit('k3', { side: 'divan' });
  await localDelete('k4');  // deleted on both sides
  await remoteDelete('k4');
  rev.k5 = await localEdit('k5', { side: 'local' });  // no conflicts
  rev.k6 = await remoteEdit('k6', { side: 'divan' });
  await local.put({ _id: 'l-new', side: 'local' });
  await ctx.alice.json('PUT', `/${DB}/r-new`, { side: 'divan' });

  const { pull } = await pushPull(local, remote, 'exchange with conflicts');
  const st = await assertSameDocs(local, ctx.admin, DB);
  const expect = (id, cond, what) => assert.ok(cond, `${id}: ${what}; state: ${JSON.stringify(st[id])}`);
  expect('k0', rev.k0.includes(st.k0.rev) && st.k0.conflicts.length === 1, 'one conflict');
  expect('k1', st.k1.rev === rev.k1 && st.k1.conflicts.length === 1, "divan's longer branch wins");
  expect('k2', st.k2.rev === rev.k2 && st.k2.conflicts.length === 1, 'the longer local branch wins');
  expect('k3', st.k3.rev === rev.k3 && !st.k3.deleted && st.k3.conflicts.length === 0 &&
         st.k3.leaves.length === 2, 'the edit beats the deletion');
  expect('k4', st.k4.deleted && st.k4.leaves.length === 2 && st.k4.leaves.every((l) => l._deleted),
         'two tombstones');
  expect('k5', st.k5.rev === rev.k5 && st.k5.leaves.length === 1, 'no conflict');
  expect('k6', st.k6.rev === rev.k6 && st.k6.leaves.length === 1, 'no conflict');
  expect('l-new', st['l-new'] && !st['l-new'].deleted, 'arrived');
  expect('r-new', st['r-new'] && !st['r-new'].deleted, 'arrived');

  await assertNothingMoves(ctx, local, remote, pull, 'auth option');
}

// 5. Credentials in the URL (http://alice:pw@host/private): a fresh
// PouchDB pulls every doc with its conflicts, a conflict made on both sides
// and a new local doc go both ways, and replicating again moves nothing.
async function urlCredentialsTest(ctx) {
  if (!ctx.ready) throw notRun('needs the setup test to have passed');
  const u = new URL(ctx.url);
  const withCreds = `${u.protocol}//${encodeURIComponent(ALICE.username)}:` +
                    `${encodeURIComponent(ALICE.password)}@${u.host}/${DB}`;
  const remote = new PouchDB(withCreds, { fetch: ctx.log.fetch });
  const local = ctx.local('url-credentials');
  const mark = ctx.log.mark();
  const first = await local.replicate.from(remote);
  assertReplicated(first, 'first pull');
  assert.ok(first.docs_written > 0, `the first pull wrote nothing: ${JSON.stringify(first)}`);
  assert.ok(ctx.log.since(mark).every((e) => !e.raw.includes(ALICE.password) &&
                                             !e.raw.includes(encodeURIComponent(ALICE.password))),
            'the password appears in a request URL');
  const before = await assertSameDocs(local, ctx.admin, DB);
  assert.equal(before.k0.conflicts.length, 1, `k0 lost its conflict in the pull: ${JSON.stringify(before.k0)}`);

  const { localEdit, remoteEdit } = editors(local, ctx.alice);
  const revs = [await localEdit('k5', { via: 'url local' }), await remoteEdit('k5', { via: 'url divan' })];
  await local.put({ _id: 'url-new', via: 'url' });
  const { pull } = await pushPull(local, remote, 'exchange with a conflict');
  const st = await assertSameDocs(local, ctx.admin, DB);
  assert.ok(revs.includes(st.k5.rev) && st.k5.conflicts.length === 1,
            `k5: one conflict between ${revs.join(' and ')}: ${JSON.stringify(st.k5)}`);
  assert.ok(st['url-new'] && !st['url-new'].deleted, 'url-new did not arrive');

  await assertNothingMoves(ctx, local, remote, pull, 'credentials in the URL');
}

// 6. Without credentials PouchDB gets 401 unauthorized, as bob (a user,
// not a member) 403 forbidden, with alice's name and a wrong password 401:
// pushes, pulls and a direct put all fail, the local database stays empty,
// and the admin finds `private` unchanged (docs, update_seq, _local docs).
async function deniedTest(ctx) {
  if (!ctx.ready) throw notRun('needs the setup test to have passed');
  const cases = [
    { who: 'anonymous', opts: {}, status: 401, name: 'unauthorized' },
    { who: 'bob (not a member)', opts: { auth: BOB }, status: 403, name: 'forbidden' },
    { who: 'alice with a wrong password', opts: { auth: { username: ALICE.username, password: 'wrong' } },
      status: 401, name: 'unauthorized' },
  ];
  const before = await dbSnapshot(ctx);
  for (const [k, c] of cases.entries()) {
    // Denials are the point here, so PouchDB's requests go to their own log
    // (the runner fails a test on error answers in ctx.log).
    const log = new RequestLog(PouchDB.fetch);
    const remote = new PouchDB(`${ctx.url}/${DB}`, { ...c.opts, fetch: log.fetch });
    const isDenial = (e) => e.status === c.status && e.name === c.name;
    const shown = (e) => JSON.stringify({ status: e.status, name: e.name, reason: e.reason, message: e.message });

    const pusher = ctx.local(`denied-push-${k}`);
    await pusher.bulkDocs([{ _id: `denied-${k}`, who: c.who }, { _id: `denied-${k}-b`, who: c.who }]);
    await assert.rejects(pusher.replicate.to(remote), (e) => isDenial(e) || assert.fail(
      `${c.who}: push: want ${c.status} ${c.name}, got ${shown(e)}`));
    const puller = ctx.local(`denied-pull-${k}`);
    await assert.rejects(puller.replicate.from(remote), (e) => isDenial(e) || assert.fail(
      `${c.who}: pull: want ${c.status} ${c.name}, got ${shown(e)}`));
    assert.equal((await puller.allDocs()).rows.length, 0, `${c.who}: the pull wrote docs locally`);
    await assert.rejects(remote.put({ _id: `denied-${k}-put` }), (e) => isDenial(e) || assert.fail(
      `${c.who}: put: want ${c.status} ${c.name}, got ${shown(e)}`));

    const dbReqs = log.entries.filter(toDb);
    assert.ok(dbReqs.length > 0, `${c.who}: PouchDB sent no request to /${DB}`);
    const other = dbReqs.filter((e) => e.status !== c.status);
    assert.deepEqual(other.map(RequestLog.describe), [],
                     `${c.who}: divan answered requests to /${DB} with other than ${c.status}`);
    for (const id of [`denied-${k}`, `denied-${k}-put`]) {
      const r = await ctx.admin.request('GET', docPath(DB, id));
      assert.equal(r.status, 404, `${c.who}: ${id} reached divan: ${r.what}`);
    }
  }
  assert.deepEqual(await dbSnapshot(ctx), before, `refused clients changed /${DB}`);
}

// 7. Alice (a member, not a db admin) pushes docs with a design doc among
// them: the design doc is denied (doc_write_failures 1, its error in
// `errors` and a `denied` event) while the other docs arrive. The same
// design doc pushed with the admin's credentials arrives, so the refusal
// was about rights.
async function designDocTest(ctx) {
  if (!ctx.ready) throw notRun('needs the setup test to have passed');
  const local = ctx.local('design');
  const docs = Array.from({ length: 5 }, (_, i) => ({ _id: `dd-${i}`, n: i }));
  const ddoc = { _id: '_design/app', views: { by_n: { map: 'function (doc) { emit(doc.n); }' } } };
  await local.bulkDocs([...docs, ddoc]);
  const remote = new PouchDB(`${ctx.url}/${DB}`, { auth: ALICE, fetch: ctx.log.fetch });
  const denied = [];
  const rep = local.replicate.to(remote);
  rep.on('denied', (err) => denied.push(err));
  const res = await rep;
  assert.equal(res.doc_write_failures, 1, `alice's push with a design doc: ${JSON.stringify(res)}`);
  assert.equal(res.docs_written, docs.length, `alice's push with a design doc: ${JSON.stringify(res)}`);
  assert.equal(res.errors.length, 1, `alice's push with a design doc: errors ${JSON.stringify(res.errors)}`);
  const err = res.errors[0];
  assert.equal(err.id, ddoc._id, `the failed doc: ${JSON.stringify(err)}`);
  assert.equal(err.name, 'unauthorized',  // CouchDB: "You are not a db or server admin."
               `the design doc's error: ${JSON.stringify(err)}`);
  assert.equal(denied.length, 1, `PouchDB's denied events: ${JSON.stringify(denied)}`);

  const gone = await ctx.admin.request('GET', docPath(DB, ddoc._id));
  assert.equal(gone.status, 404, `alice's design doc reached divan: ${gone.what}`);
  const rows = (await ctx.admin.json('POST', `/${DB}/_all_docs`, { keys: docs.map((d) => d._id) })).rows;
  const localRows = (await local.allDocs({ keys: docs.map((d) => d._id) })).rows;
  assert.deepEqual(rows.map((r) => r.value && r.value.rev), localRows.map((r) => r.value.rev),
                   `alice's other docs on divan: ${JSON.stringify(rows)}`);

  const asAdmin = new PouchDB(`${ctx.url}/${DB}`, { auth: ADMIN, fetch: ctx.log.fetch });
  const admin = await local.replicate.to(asAdmin, { doc_ids: [ddoc._id] });
  assertReplicated(admin, "the admin's push of the design doc");
  assert.equal(admin.docs_written, 1, `the admin's push of the design doc: ${JSON.stringify(admin)}`);
  const ddocRev = (await local.get(ddoc._id))._rev;
  const stored = await ctx.admin.json('GET', docPath(DB, ddoc._id));
  assert.equal(stored._rev, ddocRev, `the design doc on divan: ${JSON.stringify(stored)}`);
}

// 8. A session cookie: POST /_session (form-encoded, as PouchDB's
// authentication plugin sends it) answers alice's name and an AuthSession
// cookie; GET /_session with it names alice, authenticated by cookie; a
// PouchDB whose `fetch` adds that cookie (and no Authorization) pushes and
// pulls, and replicating again moves nothing; DELETE /_session clears the
// cookie.
//
// PouchDB.fetch keeps a cookie jar for the whole process, so a POST
// /_session sent through it would make every later PouchDB alice. The
// session requests therefore go over plain HTTP, so that only the `fetch`
// option below carries the cookie, and this test runs last.
async function cookieTest(ctx) {
  if (!ctx.ready) throw notRun('needs the setup test to have passed');
  const form = `name=${encodeURIComponent(ALICE.username)}&password=${encodeURIComponent(ALICE.password)}`;
  const res = await ctx.anon.request('POST', '/_session', form,
                                     { 'Content-Type': 'application/x-www-form-urlencoded' });
  assert.equal(res.status, 200, `POST /_session as alice: ${res.what}`);
  assert.deepEqual(res.json, { ok: true, name: ALICE.username, roles: [] }, `POST /_session: ${res.what}`);
  const setCookie = [].concat(res.headers['set-cookie'] || []);
  const m = setCookie.map((h) => /^(AuthSession=[^;\s]+)/.exec(h)).find(Boolean);
  assert.ok(m, `POST /_session set no AuthSession cookie: ${JSON.stringify(setCookie)}`);
  const cookie = m[1];

  const s = await new HttpAs(ctx.url, { Cookie: cookie }).json('GET', '/_session');
  assert.equal(s.userCtx.name, ALICE.username, `GET /_session with the cookie: ${JSON.stringify(s)}`);
  assert.equal(s.info.authenticated, 'cookie', `GET /_session with the cookie: ${JSON.stringify(s)}`);

  const sent = [];
  const remote = new PouchDB(`${ctx.url}/${DB}`, {
    fetch: (url, opts) => {
      opts.headers.set('Cookie', cookie);
      sent.push({ url, authorization: opts.headers.get('Authorization') });
      return ctx.log.fetch(url, opts);
    },
  });
  const local = ctx.local('cookie');
  await local.bulkDocs(Array.from({ length: 5 }, (_, i) => ({ _id: `c${i}`, via: 'cookie' })));
  const { push, pull } = await pushPull(local, remote, 'cookie');
  assert.equal(push.docs_written, 5, `push with the cookie: ${JSON.stringify(push)}`);
  assert.ok(pull.docs_written > 0, `pull with the cookie wrote nothing: ${JSON.stringify(pull)}`);
  assert.ok(sent.length > 0 && sent.every((r) => r.authorization === null),
            `the cookie PouchDB sent Authorization headers: ${JSON.stringify(sent.slice(0, 3))}`);
  await assertSameDocs(local, ctx.admin, DB);
  await assertNothingMoves(ctx, local, remote, pull, 'cookie');

  const out = await ctx.anon.request('DELETE', '/_session', undefined, { Cookie: cookie });
  assert.equal(out.status, 200, `DELETE /_session: ${out.what}`);
  assert.deepEqual(out.json, { ok: true }, `DELETE /_session: ${out.what}`);
  const cleared = [].concat(out.headers['set-cookie'] || []);
  assert.ok(cleared.some((h) => /^AuthSession=;/.test(h)),
            `DELETE /_session must clear the cookie: ${JSON.stringify(cleared)}`);
}

// --------------------------------------------------------------------- main

runMain(async (tmp, atExit) => {
  // An admin from the environment would let the no-admin server start.
  delete process.env.DIVAN_USER;
  delete process.env.DIVAN_PASSWORD;
  const iniPath = path.join(tmp, 'local.ini');
  fs.writeFileSync(iniPath, `[admins]\n${ADMIN.username} = ${ADMIN.password}\n\n` +
                            '[chttpd_auth]\niterations = 10\n');
  const server = await starting(`divan with an admin from ${iniPath}`,
                                () => startDivan(path.join(tmp, 'data'), ['--config', iniPath]));
  atExit(() => server.stop());
  console.log(`# pouchdb ${PouchDB.version} against a secured divan at ${server.url}, node ${process.version}`);
  const log = new RequestLog(PouchDB.fetch);
  const ctx = {
    tmp, iniPath, log, url: server.url,
    anon: new Http(server.url),
    admin: new HttpAs(server.url, { Authorization: basic(ADMIN) }),
    alice: new HttpAs(server.url, { Authorization: basic(ALICE) }),
    local: (name) => new PouchDB(path.join(tmp, `local-${name}`)),
  };
  return runTests([
    { name: 'divan needs an admin; the config file\'s password is hashed in place', fn: () => adminTest(ctx) },
    { name: 'setup: the admin makes private, alice (its member) and bob', fn: () => setupTest(ctx) },
    { name: 'anyone signs up in _users; the password is stored hashed', fn: () => signUpTest(ctx) },
    { name: 'PouchDB with {auth}: push, pull, conflicts both sides, nothing moves twice',
      fn: () => authOptionTest(ctx) },
    { name: 'PouchDB with credentials in the URL: same docs, conflicts, nothing moves twice',
      fn: () => urlCredentialsTest(ctx) },
    { name: 'anonymous 401, bob 403, wrong password 401; none of them writes anything',
      fn: () => deniedTest(ctx) },
    { name: 'a member pushing a design doc: it is denied, the other docs arrive',
      fn: () => designDocTest(ctx) },
    { name: 'PouchDB with a fetch adding the AuthSession cookie from POST /_session syncs',
      fn: () => cookieTest(ctx) },
  ], { server, log });
});
