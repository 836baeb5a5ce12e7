/** What retention knows of a segment. */
export interface SegmentInfo {
  name: string;
  bytes: number;
  /** Time of its last record (ms). */
  lastTs: number;
  sealed: boolean;
}

export interface RetentionPolicy {
  maxAge?: number | undefined;
  maxSize?: number | undefined;
}

/**
 * The oldest segments to prune so that what remains is within the policy: sealed ones only, never the
 * newest, and always a prefix of the log (so that what remains is one unbroken chain from the anchor).
 */
export function segmentsToPrune(segments: readonly SegmentInfo[], policy: RetentionPolicy, now: number): string[] {
  if (policy.maxAge === undefined && policy.maxSize === undefined) return [];
  let total = segments.reduce((sum, s) => sum + s.bytes, 0);
  const prune: string[] = [];
  for (let i = 0; i < segments.length - 1; i++) {
    const s = segments[i] as SegmentInfo;
    const tooOld = policy.maxAge !== undefined && now - s.lastTs > policy.maxAge;
    const tooBig = policy.maxSize !== undefined && total > policy.maxSize;
    if (!s.sealed || (!tooOld && !tooBig)) break;
    prune.push(s.name);
    total -= s.bytes;
  }
  return prune;
}
