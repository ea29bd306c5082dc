import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CRON_PATTERN } from '../src/index.js';

// The API server evaluates CRON_PATTERN with RE2 through CEL; JavaScript's engine agrees on this
// subset (no lookaround, no backreferences), so the grammar can be checked here quickly.
const cron = new RegExp(CRON_PATTERN);

describe('cron grammar of PostgresBackup.spec.schedule', () => {
  const accepted = [
    '0 2 * * *',
    '*/15 * * * *',
    '0 0-23/2 * * *',
    '5,35 8-18 * * 1-5',
    '0 3 1 * *',
    '0 3 ? * SUN',
    '0 0 1 jan *',
    '30 4 1,15 * mon-fri',
    '0 0 * * 7',
    '@daily',
    '@hourly',
    '@weekly',
    '@monthly',
    '@yearly',
    '@annually',
    '@midnight',
    '00 02 * * *',
    '0  2  *  *  *',
  ];
  const rejected = [
    '',
    '0 2 * *',
    '0 0 2 * * *',
    '60 * * * *',
    '0 24 * * *',
    '0 0 0 * *',
    '0 0 32 * *',
    '0 0 * 13 *',
    '0 0 * * 8',
    '@fortnightly',
    'every day',
    '0 2 * * * ',
    ' 0 2 * * *',
    '*/0 * * * *',
    '0-60 * * * *',
    '0 0 * * mon-funday',
    'TZ=UTC 0 2 * * *',
    '0 2 L * *',
    '0 2 * * 5#3',
  ];
  for (const s of accepted) it(`accepts "${s}"`, () => assert.match(s, cron));
  for (const s of rejected) it(`rejects "${s}"`, () => assert.doesNotMatch(s, cron));
});
