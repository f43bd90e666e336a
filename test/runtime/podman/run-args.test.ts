import { describe, expect, it } from 'vitest';
import { buildRunArgs } from '../../../src/runtime/podman/run-args.js';

describe('buildRunArgs: a served port', () => {
  const spec = { name: 'c', image: 'localhost/x:1', labels: {}, env: {}, secretEnv: {}, network: 'default' as const, readOnly: true };
  it('is published on 127.0.0.1 only', () => {
    const args = buildRunArgs({ ...spec, publish: { hostPort: 40001, containerPort: 3001 } });
    expect(args.slice(args.indexOf('-p'), args.indexOf('-p') + 2)).toEqual(['-p', '127.0.0.1:40001:3001/tcp']);
    expect(args.filter((a) => a === '-p' || a.startsWith('--publish'))).toHaveLength(1);
  });
  it('is refused with --network none, and when it is not a port', () => {
    expect(() => buildRunArgs({ ...spec, network: 'none', publish: { hostPort: 40001, containerPort: 3001 } })).toThrow(/needs a network/);
    expect(() => buildRunArgs({ ...spec, publish: { hostPort: 0, containerPort: 3001 } })).toThrow(/not a pair of ports/);
  });
});
