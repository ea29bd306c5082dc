/**
 * Whether this process may act now: write to the API server, exec into a pod, ask Patroni for a
 * change. A controller replica that leads sets the guard to its elector's view
 * (LeaderElector.isLeader), which turns false the moment the lease may have passed to another
 * replica, before the elector's loop has noticed: a leader frozen longer than the lease (a
 * stopped process, a stalled node) wakes up with its queue, timers and watch events all firing
 * at once, and none of them may write. Processes without leader election (the backup Jobs)
 * always may.
 */
let guard: () => boolean = () => true;

export class NotLeaderError extends Error {
  constructor(what: string) {
    super(`not the leader (the lease may have passed to another replica): ${what} refused`);
    this.name = 'NotLeaderError';
  }
}

export function setWriteGuard(mayWrite: () => boolean): void {
  guard = mayWrite;
}

export function mayWrite(): boolean {
  return guard();
}

/** Throws NotLeaderError unless this process may act now. */
export function assertMayWrite(what: string): void {
  if (!guard()) throw new NotLeaderError(what);
}
