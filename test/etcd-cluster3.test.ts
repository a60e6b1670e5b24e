// The cluster DNS end-to-end scenarios with the etcd backend on a
// three-member etcd cluster (test/helpers/etcd-suite.ts), one member down
// included. Needs root and etcd.

import { etcdClusterSuite } from './helpers/etcd-suite.js';

etcdClusterSuite(3, '10.250.43');
