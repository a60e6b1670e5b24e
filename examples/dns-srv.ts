// The DNS-only path: SRV for a named port through node:dns, no HTTP API.
// Against the embedded default (DNS on 127.0.0.1:1053; PODSWARM_DNS=HOST:PORT
// for another), from the repository or, compiled, from the installed package:
//   node --import tsx examples/dns-srv.ts
//   node "$(npm root -g)/podswarm-dns/dist/examples/dns-srv.js"

import { resolveServiceAddresses, resolveServiceSrv } from 'podswarm-dns';

const dns = { server: process.env.PODSWARM_DNS ?? '127.0.0.1:1053' };
console.log(await resolveServiceSrv('api', 'production', 'grpc', dns));
console.log(await resolveServiceAddresses('api', 'production', 'http', dns));
