/**
 * The cron grammar Kubernetes CronJobs accept (five fields or an @-macro), as one regular
 * expression. The API server checks schedules with it through CEL so a bad schedule is refused
 * at apply time, not when the CronJob is created.
 */

/** An alternation matching the integers min..max (optionally zero-padded to two digits). */
function integerRange(min: number, max: number): string {
  const values: string[] = [];
  for (let n = max; n >= min; n--) values.push(n < 10 ? `0?${n}` : `${n}`);
  return `(${values.join('|')})`;
}

function field(min: number, max: number, names: readonly string[] = [], question = false): string {
  const value = names.length > 0 ? `(${integerRange(min, max)}|${names.join('|')})` : integerRange(min, max);
  const atom = `(\\*${question ? '|\\?' : ''}|${value}(-${value})?)`;
  const item = `${atom}(/[1-9][0-9]{0,2})?`;
  return `${item}(,${item})*`;
}

// Names match in any case, as in a CronJob: JAN, Jan, jan.
const anyCase = (names: string[]) => names.map((n) => `(?i:${n})`);
const MONTHS = anyCase(['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']);
const WEEKDAYS = anyCase(['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']);

export const CRON_MACROS = [
  '@yearly',
  '@annually',
  '@monthly',
  '@weekly',
  '@daily',
  '@midnight',
  '@hourly',
] as const;

/** minute hour day-of-month month day-of-week, or one of CRON_MACROS. */
export const CRON_PATTERN =
  `^((${CRON_MACROS.join('|')})|` +
  [
    field(0, 59),
    field(0, 23),
    field(1, 31, [], true),
    field(1, 12, MONTHS),
    field(0, 7, WEEKDAYS, true),
  ].join(' +') +
  ')$';
