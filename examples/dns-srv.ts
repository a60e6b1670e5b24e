// The DNS-only path: SRV for a named port through node:dns, no HTTP API.
// Against the embedded default (DNS on 127.0.0.1:1053):
//   node --import tsx examples/dns-srv.ts

import { resolveServiceAddresses, resolveServiceSrv } from '../src/index.js';

const dns = { server: process.env.PODSWARM_DNS ?? '127.0.0.1:1053' };
console.log(await resolveServiceSrv('api', 'production', 'grpc', dns));
console.log(await resolveServiceAddresses('api', 'production', 'http', dns));
