// Waits until a server answers on its port, and asks single questions to
// check that it serves the data it was given.

import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';

export function query(name: string, type: number, id = 0x4242): Buffer {
  const labels = name.split('.').filter((l) => l !== '');
  const qname = Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
  const header = Buffer.from([id >> 8, id & 255, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([header, qname, Buffer.from([0, type, 0, 1])]);
}

export interface Answer {
  rcode: number;
  answers: number;
}

/** One UDP question to 127.0.0.1:port; undefined when nothing came back within `ms`. */
export function ask(port: number, name: string, type: number, ms = 300): Promise<Answer | undefined> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const done = (a: Answer | undefined): void => {
      clearTimeout(timer);
      sock.close();
      resolve(a);
    };
    const timer = setTimeout(() => done(undefined), ms);
    sock.on('error', () => done(undefined));
    sock.on('message', (m) => done({ rcode: m.readUInt16BE(2) & 0xf, answers: m.readUInt16BE(6) }));
    sock.send(query(name, type), port, '127.0.0.1');
  });
}

/** Polls until the server answers `name` with NOERROR and an answer, or gives up after `seconds`. */
export async function waitReady(port: number, name: string, seconds: number, isAlive: () => boolean): Promise<void> {
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    const a = await ask(port, name, 1);
    if (a && a.rcode === 0 && a.answers > 0) return;
    if (!isAlive()) throw new Error('exited during startup');
    await sleep(100);
  }
  throw new Error(`no answer for ${name} on 127.0.0.1:${port} after ${seconds} s`);
}
