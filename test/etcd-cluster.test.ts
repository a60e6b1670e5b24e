// The cluster DNS end-to-end scenarios with the etcd backend on a single
// etcd member (test/helpers/etcd-suite.ts). Needs root and etcd.

import { etcdClusterSuite } from './helpers/etcd-suite.js';

etcdClusterSuite(1, '10.250.41');
