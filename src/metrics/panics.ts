// The process's count of handler exceptions, coredns_panics_total (CoreDNS
// plugin/metrics/vars.Panic): the core counts them, wherever they are caught
// (the dispatcher, or the `errors` plugin before it), and the prometheus
// plugin exports the count. A plain number, so a node without prometheus
// pays nothing for it.

let panics = 0;

/** Counts one handler exception. */
export function countPanic(): void {
  panics++;
}

/** Handler exceptions since the process started. */
export function panicCount(): number {
  return panics;
}
