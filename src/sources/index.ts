/** Creating the Source for each configured source type (docker, file, mcpservers, official, managed). */
import type { SourceConfig } from '../config/config.js';
import { DockerSource } from './docker.js';
import { FileSource } from './file.js';
import { ManagedSource } from './managed.js';
import { McpServersSource } from './mcpservers.js';
import { OfficialSource } from './official.js';
import type { Source } from './source.js';
import type { PublishedStore } from '../store/org-stores.js';

export { DockerSource, FileSource, McpServersSource, OfficialSource };
export { SourceError, type Source, type FetchContext, type FetchResult } from './source.js';

/** One Source per configured source; the config was validated by ConfigSchema, so every type is known here. */
export function createSource(cfg: SourceConfig, stores: { published?: () => Promise<PublishedStore> } = {}): Source {
  switch (cfg.type) {
    case 'docker':
      return new DockerSource(cfg);
    case 'mcpservers':
      return new McpServersSource(cfg);
    case 'official':
      return new OfficialSource(cfg);
    case 'file':
      return new FileSource(cfg);
    case 'managed':
      return new ManagedSource(cfg, stores.published);
    default: {
      // Exhaustiveness: a new type in SourceConfigSchema must be wired here.
      const unknown: never = cfg;
      throw new Error(`unknown source type "${(unknown as { type?: string }).type}" in config.yaml: use docker, mcpservers, official, file or managed`);
    }
  }
}
