// Perfect negotiation needs exactly one polite side per pair. Both ends compare
// the same two ids, so they always disagree about who is polite.

/** True when `selfId` is the polite side towards `remoteId` (the smaller id is polite). */
export function isPolite(selfId: string, remoteId: string): boolean {
  if (selfId === remoteId) throw new Error('a peer cannot negotiate with itself');
  return selfId < remoteId;
}
