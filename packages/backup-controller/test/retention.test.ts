/** The retention decision table: what `pgbackrest expire --set` is asked to remove for one PostgresBackup. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BackupInfo } from '../src/pgbackrest-info.js';
import { decideRetention } from '../src/retention.js';

const DAY = 86_400;
const NOW = 100 * DAY;
/** The PostgresBackup whose retention is decided (the schedule), and another one. */
const OWNER = 'nightly';
const OTHER = 'pre-migration';

/** A backup that finished `ageDays` ago; incrementals name the backups they need. */
function b(label: string, ageDays: number, o: Partial<BackupInfo> = {}): BackupInfo {
  const stop = NOW - ageDays * DAY;
  return {
    label,
    type: 'Full',
    references: [],
    start: stop - 60,
    stop,
    databaseSize: 1,
    repositorySize: 1,
    keepForever: false,
    owner: OWNER,
    error: false,
    ...o,
  };
}
const incr = (label: string, ageDays: number, references: string[], o: Partial<BackupInfo> = {}) =>
  b(label, ageDays, { type: 'Incremental', references, ...o });

describe('retention', () => {
  it('keeps the newest count backups and removes the rest, newest first', () => {
    const backups = [b('F1', 4), b('F2', 3), b('F3', 2), b('F4', 1)];
    assert.deepEqual(decideRetention(backups, { count: 2, days: 0 }, NOW, OWNER).expire, ['F2', 'F1']);
  });

  it('removes backups older than days', () => {
    const backups = [b('F1', 10), b('F2', 8), b('F3', 1)];
    assert.deepEqual(decideRetention(backups, { count: 10, days: 7 }, NOW, OWNER).expire, ['F2', 'F1']);
  });

  it('days 0 means no age limit', () => {
    assert.deepEqual(
      decideRetention([b('F1', 1000), b('F2', 1)], { count: 10, days: 0 }, NOW, OWNER).expire,
      [],
    );
  });

  it('never removes a backup marked keep-forever', () => {
    const backups = [b('F1', 30, { keepForever: true }), b('F2', 20), b('F3', 1)];
    const decision = decideRetention(backups, { count: 1, days: 7 }, NOW, OWNER);
    assert.deepEqual(decision.expire, ['F2']);
    assert.equal(decision.keptBecause['F1'], 'keep-forever');
  });

  it('never removes the full backup (or incrementals) that a kept incremental needs', () => {
    const backups = [b('F1', 3), incr('I1', 2, ['F1']), incr('I2', 1, ['F1', 'I1'])];
    const decision = decideRetention(backups, { count: 1, days: 0 }, NOW, OWNER);
    assert.deepEqual(decision.expire, []);
    assert.equal(decision.keptBecause['F1'], 'needed by a kept backup');
    assert.equal(decision.keptBecause['I1'], 'needed by a kept backup');
  });

  it('removes a whole old chain once a newer full replaces it', () => {
    const backups = [b('F1', 5), incr('I1', 4, ['F1']), b('F2', 2), incr('I2', 1, ['F2'])];
    assert.deepEqual(decideRetention(backups, { count: 2, days: 0 }, NOW, OWNER).expire, ['I1', 'F1']);
  });

  it('keeps the full under a keep-forever incremental', () => {
    const backups = [b('F1', 30), incr('I1', 29, ['F1'], { keepForever: true }), b('F2', 1)];
    assert.deepEqual(decideRetention(backups, { count: 1, days: 7 }, NOW, OWNER).expire, []);
  });

  it('always keeps the newest backup, even when every backup is too old', () => {
    const decision = decideRetention([b('F1', 30), b('F2', 20)], { count: 5, days: 7 }, NOW, OWNER);
    assert.deepEqual(decision.expire, ['F1']);
    assert.equal(decision.keptBecause['F2'], 'newest');
  });

  it('ignores backups pgBackRest marks as errored when counting', () => {
    const backups = [b('F1', 3), b('F2', 2, { error: true }), b('F3', 1)];
    assert.deepEqual(decideRetention(backups, { count: 2, days: 0 }, NOW, OWNER).expire, []);
  });

  it("never removes another PostgresBackup's backups, and counts only its own", () => {
    // The schedule's three fulls, then a one-off object with count 1: the one-off's policy
    // must not touch the schedule's backups.
    const backups = [b('F1', 3), b('F2', 2), b('F3', 1), b('O1', 0.5, { owner: OTHER })];
    assert.deepEqual(decideRetention(backups, { count: 1, days: 0 }, NOW, OTHER).expire, []);
    assert.deepEqual(decideRetention(backups, { count: 3, days: 7 }, NOW, OWNER).expire, []);
    assert.deepEqual(decideRetention(backups, { count: 2, days: 0 }, NOW, OWNER).expire, ['F1']);
  });

  it("keeps its newest backup even when another object's backups are newer", () => {
    const backups = [b('F1', 30), b('O1', 1, { owner: OTHER })];
    const decision = decideRetention(backups, { count: 5, days: 7 }, NOW, OWNER);
    assert.deepEqual(decision.expire, []);
    assert.equal(decision.keptBecause['F1'], 'newest');
  });

  it("keeps its full while another object's kept incremental is based on it", () => {
    const backups = [b('F1', 10), incr('O1', 9, ['F1'], { owner: OTHER }), b('F2', 1)];
    const decision = decideRetention(backups, { count: 1, days: 0 }, NOW, OWNER);
    assert.deepEqual(decision.expire, []);
    assert.equal(decision.keptBecause['F1'], 'needed by a kept backup');
  });

  it('never removes a backup without an owner (taken before owners were recorded, or by hand)', () => {
    const backups = [b('F0', 50, { owner: undefined }), b('F1', 2), b('F2', 1)];
    assert.deepEqual(decideRetention(backups, { count: 1, days: 7 }, NOW, OWNER).expire, ['F1']);
  });
});
