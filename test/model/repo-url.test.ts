import { describe, expect, it } from 'vitest';
import { normalizeRepoUrl } from '../../src/model/repo-url.js';

describe('normalizeRepoUrl', () => {
  it('spells one GitHub repository one way', () => {
    const want = 'https://github.com/owner/repo';
    for (const u of [
      'https://github.com/Owner/Repo',
      'https://github.com/owner/repo.git',
      'https://github.com/owner/repo/',
      'http://www.github.com/owner/repo',
      'git@github.com:owner/repo.git',
      'git+https://github.com/owner/repo.git',
      'ssh://git@github.com/owner/repo.git',
      'github.com/owner/repo',
      'https://github.com/owner/repo/issues',
      'https://github.com/owner/repo#readme',
      'https://github.com/owner/repo/tree/main',
    ]) {
      expect(normalizeRepoUrl(u), u).toBe(want);
    }
  });

  it('keeps the folder a URL points into, or the given subfolder, with its case', () => {
    expect(normalizeRepoUrl('https://github.com/awslabs/mcp/tree/main/src/aws-api-mcp-server')).toBe('https://github.com/awslabs/mcp/src/aws-api-mcp-server');
    expect(normalizeRepoUrl('https://github.com/o/r/blob/main/pkg/Server/README.md')).toBe('https://github.com/o/r/pkg/Server');
    expect(normalizeRepoUrl('https://github.com/awslabs/mcp', 'src/aws-api-mcp-server/')).toBe('https://github.com/awslabs/mcp/src/aws-api-mcp-server');
    expect(normalizeRepoUrl('https://github.com/o/r/tree/main/a', './b')).toBe('https://github.com/o/r/b');
    expect(normalizeRepoUrl('https://github.com/o/r', '../../etc')).toBe('https://github.com/o/r/etc');
  });

  it('handles other hosts, including GitLab subgroups', () => {
    expect(normalizeRepoUrl('https://gitlab.com/Group/Sub/Repo.git')).toBe('https://gitlab.com/group/sub/repo');
    expect(normalizeRepoUrl('https://gitlab.com/group/repo/-/tree/main/docs')).toBe('https://gitlab.com/group/repo/docs');
  });

  it('refuses what is not a repository URL', () => {
    for (const u of [undefined, null, '', 'not a url', 'https://github.com/owner', 'mailto:x@y.z', 'https://github.com/']) {
      expect(normalizeRepoUrl(u as string | undefined), String(u)).toBeUndefined();
    }
  });
});
