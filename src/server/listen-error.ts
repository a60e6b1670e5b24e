// The error a DNS listener reports when it cannot bind, with the likely cause
// for the two an operator meets: the address is missing (a Podman node's
// address goes away with a reboot until `setup link` restores it) or taken
// (aardvark-dns holds port 53 on every DNS-enabled network's gateway).

export function listenError(proto: 'udp' | 'tcp', address: string, port: number, e: Error): Error {
  const code = (e as NodeJS.ErrnoException).code;
  const hint =
    code === 'EADDRNOTAVAIL'
      ? `: ${address} is not an address of this host (a Podman node's address is put on lo by \`podswarm-dns setup podman\`, and again after a reboot by \`podswarm-dns setup link\`)`
      : code === 'EADDRINUSE' && port === 53
        ? ": another DNS server holds the port (aardvark-dns binds port 53 on each DNS-enabled Podman network's gateway; bind the node address instead, see `podswarm-dns setup podman`)"
        : '';
  return new Error(`listen ${proto} ${address}:${port}: ${e.message}${hint}`);
}
