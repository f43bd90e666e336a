import { describe, expect, it } from 'vitest';
import { CATEGORIES, categoryMatches, normalizeCategory } from '../../src/model/categories.js';

describe('normalizeCategory', () => {
  it('collapses spellings of one idea into one canonical category', () => {
    expect(['ai', 'ai-ml', 'AI/ML', 'machine-learning', 'Machine Learning'].map(normalizeCategory)).toEqual(['ai', 'ai', 'ai', 'ai', 'ai']);
    expect(['devtools', 'developer-tools', 'Developer Tools', 'development', 'code'].map(normalizeCategory)).toEqual(Array(5).fill('development'));
    expect(['Fintech', 'payments', 'finance', 'cost-management'].map(normalizeCategory)).toEqual(Array(4).fill('finance'));
    expect(normalizeCategory(' Web Scraping ')).toBe('web-scraping');
    expect(normalizeCategory('data-visualization')).toBe('analytics');
  });

  it("maps every docker category (44 values) into the vocabulary, mcpservers.org's 15 as themselves", () => {
    const docker = `devops productivity database ai search monitoring security communication documentation ai-ml tools finance
      analytics payments development blockchain data-analytics cost-management web games data-visualization crm web-scraping video
      travel news messaging media maps knowledge iot integration infrastructure healthcare geospatial ecommerce devtools
      developer-tools commerce code business boating automation Fintech`.split(/\s+/);
    expect(new Set(docker).size).toBe(44);
    for (const c of docker) expect(CATEGORIES).toContain(normalizeCategory(c));
    const mcpservers = 'development productivity database search web-scraping file-system version-control communication cloud-service cloud-storage marketing finance design memory other'.split(' ');
    for (const c of mcpservers) expect(normalizeCategory(c)).toBe(c);
  });

  it('puts unknown words under "other" and leaves missing values missing', () => {
    expect(normalizeCategory('boating')).toBe('other');
    expect(normalizeCategory(undefined)).toBeUndefined();
    expect(normalizeCategory('  ')).toBeUndefined();
  });
});

describe('categoryMatches', () => {
  it('matches a filter written any synonymous way', () => {
    expect(categoryMatches('ai', 'AI-ML')).toBe(true);
    expect(categoryMatches('development', 'devtools')).toBe(true);
    expect(categoryMatches('Fintech', 'finance')).toBe(true);
    expect(categoryMatches('finance', 'ai')).toBe(false);
    expect(categoryMatches(undefined, 'ai')).toBe(false);
  });

  it('does not let an unknown filter word match everything filed under "other"', () => {
    expect(categoryMatches('other', 'boating')).toBe(false);
    expect(categoryMatches('other', 'other')).toBe(true);
  });
});
