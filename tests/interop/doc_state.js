// What a database says about each document, read the same way from a local
// PouchDB and (over plain HTTP) from divan, so the two can be compared:
// the winning rev and whether it is deleted (from _all_docs with keys), the
// winning body with _revisions and _conflicts (GET ?conflicts=true&revs=true)
// or the answer to a GET when the winner is a tombstone, and every leaf with
// its history (open_revs=all&revs=true).
'use strict';

const assert = require('node:assert/strict');
const { docPath } = require('./harness');

const byRev = (a, b) => (a._rev < b._rev ? -1 : a._rev > b._rev ? 1 : 0);

async function localState(db, id, winnerRow) {
  const row = winnerRow || (await db.allDocs({ keys: [id] })).rows[0];
  if (!row || row.error) return { id, missing: row ? row.error : 'no row' };
  const state = { id, rev: row.value.rev, deleted: !!row.value.deleted };
  if (state.deleted) {
    state.get = await db.get(id).then(() => 'found', (e) => `${e.status} ${e.name} ${e.reason}`);
  } else {
    const doc = await db.get(id, { conflicts: true, revs: true });
    state.conflicts = (doc._conflicts || []).slice().sort();
    delete doc._conflicts;
    state.doc = doc;
  }
  const leaves = await db.get(id, { open_revs: 'all', revs: true });
  state.leaves = leaves.map((l) => l.ok || { missing: l.missing }).sort(byRev);
  return state;
}

async function remoteState(httpc, dbName, id, winnerRow) {
  const row = winnerRow ||
    (await httpc.json('POST', `/${dbName}/_all_docs`, { keys: [id] })).rows[0];
  if (!row || row.error) return { id, missing: row ? row.error : 'no row' };
  const state = { id, rev: row.value.rev, deleted: !!row.value.deleted };
  const p = docPath(dbName, id);
  if (state.deleted) {
    const r = await httpc.request('GET', p);
    state.get = r.status === 200 ? 'found'
      : `${r.status} ${r.json && r.json.error} ${r.json && r.json.reason}`;
  } else {
    const doc = await httpc.json('GET', `${p}?conflicts=true&revs=true`);
    state.conflicts = (doc._conflicts || []).slice().sort();
    delete doc._conflicts;
    state.doc = doc;
  }
  const leaves = await httpc.json('GET', `${p}?open_revs=all&revs=true`);
  assert.ok(Array.isArray(leaves), `GET ${p}?open_revs=all&revs=true did not answer an array: ` +
            JSON.stringify(leaves));
  state.leaves = leaves.map((l) => l.ok || { missing: l.missing }).sort(byRev);
  return state;
}

// Every doc id a local PouchDB knows, deleted ones included (no _local docs).
async function localIds(db) {
  const res = await db.changes({ style: 'all_docs' });
  return res.results.map((r) => r.id).sort();
}

// Every doc id divan's _changes lists.
async function remoteIds(httpc, dbName) {
  const res = await httpc.json('GET', `/${dbName}/_changes?style=all_docs`);
  assert.ok(Array.isArray(res.results), `_changes without results: ${JSON.stringify(res)}`);
  return res.results.map((r) => r.id).sort();
}

// Runs `fn` over `items`, at most `n` at a time, keeping the order.
async function mapLimit(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

// Asserts that the local PouchDB and divan's `dbName` hold the same set of
// documents and, for each, the same winner, deleted state, body, history,
// _conflicts and leaves. Returns the local states, keyed by id.
async function assertSameDocs(local, httpc, dbName) {
  const ids = await localIds(local);
  const rids = await remoteIds(httpc, dbName);
  assert.deepEqual(rids, ids, `divan's _changes lists other doc ids than the local PouchDB`);
  const lrows = (await local.allDocs({ keys: ids })).rows;
  const rrows = (await httpc.json('POST', `/${dbName}/_all_docs`, { keys: ids })).rows;
  assert.equal(rrows.length, ids.length, `POST /${dbName}/_all_docs with ${ids.length} keys ` +
               `answered ${rrows.length} rows`);
  const pairs = await mapLimit(ids, 8, async (id, i) => [
    await localState(local, id, lrows[i]),
    await remoteState(httpc, dbName, id, rrows[i]),
  ]);
  const mismatches = pairs.filter(([l, r]) => !isDeepStrictEqual(l, r));
  if (mismatches.length) {
    const shown = mismatches.slice(0, 3).map(([l, r]) =>
      `  ${l.id}:\n    local PouchDB: ${JSON.stringify(l)}\n    divan:         ${JSON.stringify(r)}`);
    assert.fail(`${mismatches.length} of ${ids.length} documents differ between the local ` +
                `PouchDB and divan (${mismatches.map(([l]) => l.id).slice(0, 10).join(', ')}):\n` +
                shown.join('\n'));
  }
  return Object.fromEntries(pairs.map(([l]) => [l.id, l]));
}

function isDeepStrictEqual(a, b) {
  return require('node:util').isDeepStrictEqual(a, b);
}

// ------------------------------------------------- more than two databases

// A database to compare with assertSameDocsAcross: a local PouchDB, or a
// database on any CouchDB-style server read over plain HTTP.
function localSide(name, db) {
  return {
    name,
    ids: () => localIds(db),
    rows: async (ids) => (await db.allDocs({ keys: ids })).rows,
    state: (id, row) => localState(db, id, row),
  };
}

function remoteSide(name, httpc, dbName) {
  return {
    name,
    ids: () => remoteIds(httpc, dbName),
    rows: async (ids) => (await httpc.json('POST', `/${dbName}/_all_docs`, { keys: ids })).rows,
    state: (id, row) => remoteState(httpc, dbName, id, row),
  };
}

// A leaf as `rev` or `rev (deleted)`, for diffs.
const leafName = (l) => (l.missing ? `missing ${l.missing}` : l._rev + (l._deleted ? ' (deleted)' : ''));

// The fields in which state `b` differs from state `a`, one line each,
// naming both sides.
function stateDiff(a, an, b, bn) {
  const lines = [];
  const show = (v) => JSON.stringify(v);
  if (a.missing || b.missing) {
    if (!(a.missing && b.missing)) {
      lines.push(`${an} ${a.missing ? `has no such doc (${a.missing})` : `has rev ${a.rev}`}, ` +
                 `${bn} ${b.missing ? `has no such doc (${b.missing})` : `has rev ${b.rev}`}`);
    }
    return lines;
  }
  for (const key of ['rev', 'deleted', 'conflicts']) {
    if (!isDeepStrictEqual(a[key], b[key])) {
      lines.push(`${key}: ${an} ${show(a[key])}, ${bn} ${show(b[key])}`);
    }
  }
  // A GET of a deleted doc: only the status is compared, as PouchDB Server
  // gives the reason "missing" where CouchDB (and divan) say "deleted".
  const status = (get) => (get === undefined ? undefined : String(get).split(' ')[0]);
  if (status(a.get) !== status(b.get)) {
    lines.push(`GET of the deleted doc: ${an} ${show(a.get)}, ${bn} ${show(b.get)}`);
  }
  const al = (a.leaves || []).map(leafName);
  const bl = (b.leaves || []).map(leafName);
  if (!isDeepStrictEqual(al, bl)) {
    lines.push(`leaves (open_revs=all): ${an} ${show(al)}, ${bn} ${show(bl)}`);
  } else if (!isDeepStrictEqual(a.leaves, b.leaves)) {
    lines.push(`leaves: same revs, other bodies or _revisions: ${an} ${show(a.leaves)}, ` +
               `${bn} ${show(b.leaves)}`);
  }
  if (!isDeepStrictEqual(a.doc, b.doc) && isDeepStrictEqual(a.rev, b.rev)) {
    lines.push(`winning body: ${an} ${show(a.doc)}, ${bn} ${show(b.doc)}`);
  }
  return lines;
}

// Asserts that all `sides` (localSide / remoteSide, at least two) hold the
// same documents and, for each, the same winner, deleted state, body,
// history, _conflicts and leaves (a GET of a deleted doc: the same status). On failure the message lists, per
// document, each field that differs from the first side. Returns the
// states of each side, keyed by side name and then by doc id.
async function assertSameDocsAcross(sides) {
  const idLists = await Promise.all(sides.map((s) => s.ids()));
  const ids = [...new Set(idLists.flat())].sort();
  const problems = [];
  sides.forEach((s, k) => {
    const have = new Set(idLists[k]);
    const lacking = ids.filter((id) => !have.has(id));
    if (lacking.length) {
      problems.push(`${s.name} lacks ${lacking.length} of ${ids.length} docs: ` +
                    lacking.slice(0, 10).map((id) => JSON.stringify(id)).join(', '));
    }
  });
  const rows = await Promise.all(sides.map((s) => s.rows(ids)));
  sides.forEach((s, k) => {
    assert.equal(rows[k].length, ids.length, `${s.name}: _all_docs with ${ids.length} keys ` +
                 `answered ${rows[k].length} rows`);
  });
  const states = await mapLimit(ids, 8, (id, i) => Promise.all(sides.map((s, k) => s.state(id, rows[k][i]))));
  let differing = 0;
  states.forEach((perSide, i) => {
    const lines = [];
    for (let k = 1; k < sides.length; k++) {
      lines.push(...stateDiff(perSide[0], sides[0].name, perSide[k], sides[k].name));
    }
    if (!lines.length) return;
    differing++;
    if (differing <= 8) problems.push(`${JSON.stringify(ids[i])}:\n      ` + lines.join('\n      '));
  });
  if (differing > 8) problems.push(`... and ${differing - 8} more documents differ`);
  if (problems.length) {
    assert.fail(`${sides.map((s) => s.name).join(', ')} disagree (${differing} of ${ids.length} ` +
                `documents differ):\n    ` + problems.join('\n    '));
  }
  const out = {};
  sides.forEach((s, k) => { out[s.name] = Object.fromEntries(states.map((st) => [st[k].id, st[k]])); });
  return out;
}

module.exports = { localState, remoteState, localIds, remoteIds, assertSameDocs, mapLimit,
                   localSide, remoteSide, assertSameDocsAcross };
