/** One requirement set's summary in scripts/conformance.mjs --json output. */
export interface SetReport {
  revision: string;
  leg: 'server' | 'client';
  exitCode: number;
  required: number;
  scenarios: number;
  passed: number;
  failed: number;
  unexpectedFailures: string[];
  staleEntries: string[];
  problems: string[];
}
