// Follows a service with blocking queries: prints its endpoints now and on
// every change. Edit examples/services.yaml while it runs to see an update.
//   node --import tsx examples/watch-service.ts [service] [namespace]
//   node "$(npm root -g)/podswarm-dns/dist/examples/watch-service.js" [service] [namespace]

import { watch } from 'podswarm-dns';

const [service = 'api', namespace = 'production'] = process.argv.slice(2);
const w = watch(
  service,
  namespace,
  (endpoints, index) => {
    console.log(`index ${index}:`, endpoints.map((e) => `${e.name} ${e.address}${e.healthy ? '' : ' (unhealthy)'}`).join(', ') || '(none)');
  },
  { onError: (err) => console.error('watch:', err.message) },
);

process.once('SIGINT', () => void w.stop());
