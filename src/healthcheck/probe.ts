// One health check of one endpoint: a TCP connect, or an HTTP GET whose
// status must be 2xx/3xx. Resolves when healthy, rejects with the reason.

import { request } from 'node:http';
import { connect } from 'node:net';
import type { HealthCheck } from '../registry/types.js';
import { joinHostPort } from '../util/hostport.js';

export function probe(address: string, check: HealthCheck, timeoutMs: number): Promise<void> {
  return check.httpPath === undefined ? tcpProbe(address, check.port, timeoutMs) : httpProbe(address, check.port, check.httpPath, timeoutMs);
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, timeout: timeoutMs });
    s.once('connect', () => {
      s.destroy();
      resolve();
    });
    s.once('timeout', () => {
      s.destroy();
      reject(new Error(`connect ${host}:${port}: timed out after ${timeoutMs}ms`));
    });
    s.once('error', (err) => reject(new Error(`connect ${host}:${port}: ${err.message}`)));
  });
}

function httpProbe(host: string, port: number, path: string, timeoutMs: number): Promise<void> {
  const url = `http://${joinHostPort(host, port)}${path}`;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', signal: AbortSignal.timeout(timeoutMs), agent: false }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 400) resolve();
      else reject(new Error(`GET ${url}: status ${status}`));
    });
    req.once('error', (err) => reject(new Error(`GET ${url}: ${err.name === 'AbortError' ? `timed out after ${timeoutMs}ms` : err.message}`)));
    req.end();
  });
}
