import type { SourceConfig } from '../config/config.js';
import { DockerSource } from './docker.js';
import { FileSource } from './file.js';
import { McpServersSource } from './mcpservers.js';
import { OfficialSource } from './official.js';
import type { Source } from './source.js';

export { DockerSource, FileSource, McpServersSource, OfficialSource };
export { SourceError, type Source, type FetchContext, type FetchResult } from './source.js';

/** One Source per configured source; the config was validated by ConfigSchema, so every type is known here. */
export function createSource(cfg: SourceConfig): Source {
  switch (cfg.type) {
    case 'docker':
      return new DockerSource(cfg);
    case 'mcpservers':
      return new McpServersSource(cfg);
    case 'official':
      return new OfficialSource(cfg);
    case 'file':
      return new FileSource(cfg);
    default: {
      // Exhaustiveness: a new type in SourceConfigSchema must be wired here.
      const unknown: never = cfg;
      throw new Error(`unknown source type "${(unknown as { type?: string }).type}" in config.yaml: use docker, mcpservers, official or file`);
    }
  }
}
