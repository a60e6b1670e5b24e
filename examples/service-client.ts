// The seed's "Option 3": ask the API for addresses, pick one, connect.
// Run against the embedded default (Corefile.example, API on 127.0.0.1:8080;
// PODSWARM_API_URL for another), from the repository or, compiled, from the
// installed package:
//   npm start &   then   node --import tsx examples/service-client.ts
//   podswarm-dns &   then   node "$(npm root -g)/podswarm-dns/dist/examples/service-client.js"
// The example registry's addresses are documentation examples that must not
// be dialled, so the TCP step only runs with --connect (on a real cluster).

import { connect, getServiceAddresses, getServiceEndpoints, pickEndpoint, preferLocal, healthyOnly, roundRobin } from 'podswarm-dns';

const addresses = await getServiceAddresses('postgres-service', 'default');
console.log('addresses:', addresses);

const endpoints = await getServiceEndpoints('postgres-service', 'default');
const pick = preferLocal('node1', healthyOnly(roundRobin()));
console.log('picked (node1 preferred):', pickEndpoint(endpoints, pick));

if (process.argv.includes('--connect')) {
  try {
    const socket = await connect('postgres-service', 'default', 'postgres', { timeoutMs: 500 });
    socket.on('error', (err) => console.log('socket:', err.message));
    console.log('connected to', socket.remoteAddress, socket.remotePort);
    socket.end();
  } catch (err) {
    console.log('connect:', (err as Error).message);
  }
}
