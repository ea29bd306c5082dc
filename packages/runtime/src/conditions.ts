/**
 * Standard conditions (metav1.Condition): lastTransitionTime changes only when the status
 * flips, so `kubectl wait` and alerting see real transitions, not every reconcile.
 */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export type ConditionUpdate = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

/** Builds updates of one condition type: conditionOf('Ready')('True', 'AllReady', '...'). */
export function conditionOf(type: string) {
  return (status: Condition['status'], reason: string, message: string): ConditionUpdate => ({
    type,
    status,
    reason,
    message,
  });
}

/** The new list: each update replaces the condition of its type, keeping the transition time if unchanged. */
export function mergeConditions(
  existing: readonly Condition[] | undefined,
  updates: readonly ConditionUpdate[],
  observedGeneration: number | undefined,
  now: Date,
): Condition[] {
  const byType = new Map((existing ?? []).map((c) => [c.type, c]));
  for (const update of updates) {
    const previous = byType.get(update.type);
    byType.set(update.type, {
      ...update,
      ...(observedGeneration !== undefined ? { observedGeneration } : {}),
      lastTransitionTime:
        previous && previous.status === update.status
          ? previous.lastTransitionTime
          : now.toISOString().replace(/\.\d+Z$/, 'Z'),
    });
  }
  return [...byType.values()];
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
