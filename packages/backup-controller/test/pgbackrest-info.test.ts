/** Reading pgbackrest info --output=json, and what a Job reports back. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeJobResult, encodeJobResult, TERMINATION_MESSAGE_LIMIT } from '../src/job-result.js';
import { humanSize, parseInfo, toRecord } from '../src/pgbackrest-info.js';

// Real output of pgBackRest 2.45 on PostgreSQL 15 (abridged), with a keep-forever annotation.
const INFO = `[{"name":"db","cipher":"none","status":{"code":0,"message":"ok"},
 "db":[{"id":1,"repo-key":1,"system-id":7711703918748311533,"version":"15"}],
 "backup":[
  {"label":"20261124-114949F","type":"full","prior":null,"reference":null,"error":false,
   "timestamp":{"start":1795520989,"stop":1795520991},"archive":{"start":"000000010000000000000002","stop":"000000010000000000000002"},
   "info":{"size":22992303,"delta":22992303,"repository":{"size":3056755,"delta":3056755}},
   "annotation":{"pgop-keep-forever":"true"}},
  {"label":"20261124-114949F_20261124-114953I","type":"incr","prior":"20261124-114949F","reference":["20261124-114949F"],"error":false,
   "timestamp":{"start":1795520993,"stop":1795520994},"archive":{"start":"000000010000000000000004","stop":"000000010000000000000005"},
   "info":{"size":22992303,"delta":8458,"repository":{"size":3056755,"delta":431}}}]}]`;

describe('pgbackrest info', () => {
  it('reads the backups of the stanza with their type, chain, sizes and WAL range', () => {
    const [full, inc] = parseInfo(INFO, 'db');
    assert.equal(full!.type, 'Full');
    assert.equal(full!.keepForever, true);
    assert.equal(inc!.type, 'Incremental');
    assert.deepEqual(inc!.references, ['20261124-114949F']);
    assert.deepEqual(toRecord(inc!), {
      label: '20261124-114949F_20261124-114953I',
      type: 'Incremental',
      start: '2026-11-24T11:49:53Z',
      stop: '2026-11-24T11:49:54Z',
      databaseSize: 22992303,
      repositorySize: 431,
      walStart: '000000010000000000000004',
      walStop: '000000010000000000000005',
    });
  });

  it('lists nothing for a stanza without backups or another stanza', () => {
    assert.deepEqual(parseInfo('[{"name":"db","status":{"code":2},"backup":[]}]', 'db'), []);
    assert.deepEqual(parseInfo(INFO, 'other'), []);
  });

  it('prints sizes as the demo does', () => {
    assert.equal(humanSize(1_234_567_890), '1.2GB');
    assert.equal(humanSize(23_534_631), '23.5MB');
    assert.equal(humanSize(512), '512B');
  });
});

describe('job result', () => {
  it('round-trips and fits a termination message, dropping the oldest backups first', () => {
    const backup = toRecord(parseInfo(INFO, 'db')[1]!);
    const many = Array.from({ length: 100 }, (_, i) => ({ ...backup, label: `${backup.label}-${i}` }));
    const text = encodeJobResult({ ok: true, label: 'x', backups: many, backupCount: 100, expired: [] });
    assert.ok(text.length <= TERMINATION_MESSAGE_LIMIT);
    const decoded = decodeJobResult(text)!;
    assert.equal(decoded.backupCount, 100);
    assert.equal(decoded.backups[0]!.label, `${backup.label}-0`);
  });

  it('ignores a message that is not a result', () => {
    assert.equal(decodeJobResult('Error: something'), undefined);
    assert.equal(decodeJobResult(undefined), undefined);
  });
});
