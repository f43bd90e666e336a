import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../src/config/config.js';
import { Policy } from '../src/governance/policy.js';
import { repoRoot } from './helpers/shared-data.js';

/**
 * The deployment files (Containerfile, deploy/compose.yaml for two replicas + PostgreSQL) cannot be built or run
 * here (no image registry is reachable): their syntax and the facts they depend on are checked instead.
 */

const compose = parseYaml(readFileSync(join(repoRoot, 'deploy', 'compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<string, { image?: string; environment?: Record<string, string>; depends_on?: Record<string, { condition: string }>; ports?: string[]; volumes?: string[]; command?: string[]; healthcheck?: { test: string[] } }>;
  volumes?: Record<string, unknown>;
};

describe('deploy/compose.yaml and the Containerfile', () => {
  it('runs two serve-http replicas on one PostgreSQL, the password only in the environment', () => {
    const { db, 'registry-a': a, 'registry-b': b } = compose.services;
    expect(db?.image).toMatch(/^docker\.io\/library\/postgres:\d+/);
    expect(db?.healthcheck?.test).toContain('pg_isready');
    for (const r of [a, b]) {
      expect(r?.image).toBe('localhost/mcp-registry:dev');
      expect(r?.depends_on?.db?.condition).toBe('service_healthy');
      expect(r?.environment?.MCP_REGISTRY_DATABASE_URL).toMatch(/^postgres:\/\/registry:\$\{MCP_REGISTRY_DB_PASSWORD:\?[^}]+\}@db:5432\/registry$/);
      expect(r?.command?.slice(0, 1)).toEqual(['serve-http']);
      expect(r?.command).toContain('0.0.0.0');
      expect(r?.volumes).toContain('./config.yaml:/data/config.yaml:ro');
      expect(r?.healthcheck?.test.join(' ')).toContain('/readyz');
    }
    expect(new Set([a!.ports![0], b!.ports![0]]).size).toBe(2);
    expect(compose.volumes).toHaveProperty('pgdata');
  });

  it('ships a config.yaml and policy.yaml this version accepts', async () => {
    const cfg = await loadConfig(join(repoRoot, 'deploy', 'config.yaml'));
    expect(cfg.sources.map((s) => s.type)).toContain('managed');
    expect(cfg.registries.map((r) => r.name)).toEqual(['production', 'dev']);
    expect(() => Policy.fromText(readFileSync(join(repoRoot, 'deploy', 'policy.yaml'), 'utf8'), 'deploy/policy.yaml')).not.toThrow();
  });

  it('the Containerfile builds from the files the package ships and runs serve-http as an unprivileged user', () => {
    const text = readFileSync(join(repoRoot, 'Containerfile'), 'utf8');
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { files: string[] };
    for (const dir of pkg.files.filter((f) => !/\.md$|LICENSE/.test(f) && f !== 'dist')) expect(text).toMatch(new RegExp(`COPY (--from=build /src/)?${dir} `));
    expect(text).toMatch(/^USER node$/m);
    expect(text).toMatch(/^ENTRYPOINT \["node", "\/app\/dist\/cli\.js"\]$/m);
    expect(text).toMatch(/HEALTHCHECK .*\/healthz/);
  });
});
