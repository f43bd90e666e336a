/** Where serve-http's stamps are kept when not in a file (PostgreSQL: one document per served registry, shared by replicas). */
export interface StampsBackend {
  read(): Promise<unknown>;
  write(doc: unknown): Promise<void>;
}
