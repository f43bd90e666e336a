// Launching a remote server: its URL checked by the URL guard (policy's `remote` options), connected over
// streamable HTTP or SSE through the guard's fetch (checked again on every connection).
import type { Launcher } from './launcher.js';
import { refused } from './launcher.js';

const load = {
  child: () => import('../child.js'),
  urlGuard: () => import('../../governance/url-guard.js'),
};

export function remoteLauncher(): Launcher<'remote'> {
  return {
    async start({ entryId, plan, governance, childOpts, verifySignature }) {
      const { Child } = await load.child();
      // Loopback, private, link-local and metadata addresses (and plain http) only when policy says so.
      const { checkRemoteUrl, guardedFetch } = await load.urlGuard();
      const check = await checkRemoteUrl(plan.url, governance.remote);
      if (!check.ok) throw refused(`${entryId} was not started: ${check.reason}`);
      await verifySignature();
      // Checked again on every connection: the name may resolve elsewhere by then (DNS rebinding).
      const fetch = guardedFetch(check.url, governance.remote);
      // A failed start closes its transport, and with it this fetch (child.ts).
      return { child: await Child.start({ kind: 'http', url: plan.url, transport: plan.transport, headers: plan.headers, fetch }, childOpts) };
    },
  };
}
