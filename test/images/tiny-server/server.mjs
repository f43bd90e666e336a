// A tiny MCP server (stdio) for the registry's container tests. Plain JS so it runs unbuilt, in the test image
// (localhost/mcp-registry-test/tiny:1) and on the host alike: `node test/images/tiny-server/server.mjs`.
//
// Environment:
//   TINY_TOOL_VARIANT  when set, changes the description of `echo` (a "rug pull" between two starts)
//   TINY_PAGE_SIZE     tools/list returns pages of this many tools with nextCursor (default: everything at once)
//   TINY_EXTRA_TOOLS   adds this many trivial tools extra_1..extra_N (for listings and name-length tests)
//   TINY_IGNORE_EOF    when "1", keeps running after stdin closes (an orphan that only a reaper removes)
//   TINY_HOSTILE       when "1", adds `big` (a text result of `bytes` bytes) and `deep` (structuredContent nested
//                      `depth` levels): results a proxy must survive (host-process tests only; not in the image)
//   TINY_STDOUT_LOG    writes this many log lines to stdout before serving (a server that logs to the wrong stream)
//   TINY_STDOUT_FLOOD  writes this many MB to stdout, without a line break, before serving (host runs only: the
//                      test image is not rebuilt for it)
//   TINY_EXIT_AFTER_OUTPUT  when "1", exits (code 1) after that output instead of serving
import { readFileSync, writeFileSync, unlinkSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema, McpError, ErrorCode } from '@modelcontextprotocol/sdk/types.js';

const VERSION = '1.0.0';
const variant = process.env.TINY_TOOL_VARIANT;
const pageSize = Number(process.env.TINY_PAGE_SIZE || 0);
const extraTools = Number(process.env.TINY_EXTRA_TOOLS || 0);

// A 1x1 transparent PNG for the image block of `multi`.
const PNG_1X1 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

const str = (description) => ({ type: 'string', description });
const obj = (properties, required = Object.keys(properties)) => ({ type: 'object', properties, required, additionalProperties: false });
const text = (t) => ({ content: [{ type: 'text', text: t }] });
const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(new Error('cancelled'));
    });
  });

function readOr(path, fallback) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}
function canWrite(dir) {
  const f = `${dir.replace(/\/$/, '')}/.tiny-write-probe-${process.pid}`;
  try {
    writeFileSync(f, 'x');
    unlinkSync(f);
    return true;
  } catch {
    return false;
  }
}
function statusField(name) {
  const m = new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(readOr('/proc/self/status', ''));
  return m ? m[1].trim() : null;
}
function firstLine(path) {
  const t = readOr(path, null);
  return t === null ? null : t.trim().split('\n')[0];
}

/** What the sandbox looks like from inside: lets tests check the hardening flags really took effect. */
function sandboxInfo() {
  const netDev = readOr('/proc/net/dev', '');
  const interfaces = netDev
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0].trim())
    .filter(Boolean);
  return {
    uid: process.getuid(),
    gid: process.getgid(),
    pid: process.pid,
    hostname: hostname(),
    rootWritable: canWrite('/'),
    tmpWritable: canWrite('/tmp'),
    interfaces,
    capEff: statusField('CapEff'),
    capBnd: statusField('CapBnd'),
    noNewPrivs: statusField('NoNewPrivs'),
    seccomp: statusField('Seccomp'),
    pid1: readOr('/proc/1/cmdline', '').split('\0').filter(Boolean),
    // cgroup v1 and v2 spellings of the memory and pids limits.
    memoryLimit: firstLine('/sys/fs/cgroup/memory.max') ?? firstLine('/sys/fs/cgroup/memory/memory.limit_in_bytes'),
    pidsLimit: firstLine('/sys/fs/cgroup/pids.max') ?? firstLine('/sys/fs/cgroup/pids/pids.max'),
    rootEntries: readdirSync('/').sort(),
  };
}

const tools = [
  {
    name: 'echo',
    description: variant ? `Returns its text unchanged. [variant ${variant}]` : 'Returns its text unchanged.',
    inputSchema: obj({ text: str('what to echo') }),
    run: ({ text: t }) => text(String(t)),
  },
  {
    name: 'add',
    description: 'Adds two numbers.',
    inputSchema: obj({ a: { type: 'number' }, b: { type: 'number' } }),
    outputSchema: obj({ sum: { type: 'number' } }),
    run: ({ a, b }) => {
      if (typeof a !== 'number' || typeof b !== 'number') throw new McpError(ErrorCode.InvalidParams, 'a and b must be numbers');
      return { ...text(String(a + b)), structuredContent: { sum: a + b } };
    },
  },
  {
    name: 'env_has',
    description: 'Says whether an environment variable is set, and its length (never its value).',
    inputSchema: obj({ name: str('variable name') }),
    outputSchema: obj({ name: { type: 'string' }, set: { type: 'boolean' }, length: { type: 'number' } }),
    run: ({ name }) => {
      const v = process.env[String(name)];
      const out = { name: String(name), set: v !== undefined, length: v === undefined ? 0 : v.length };
      return { ...text(JSON.stringify(out)), structuredContent: out };
    },
  },
  {
    name: 'echo_env',
    description: 'Returns the value of an environment variable (test-only: proves a secret arrived; exercises redaction).',
    inputSchema: obj({ name: str('variable name') }),
    run: ({ name }) => {
      const v = process.env[String(name)];
      return v === undefined ? { ...text(`${name} is not set`), isError: true } : text(v);
    },
  },
  {
    name: 'fail',
    description: 'Always fails with a tool error (isError: true).',
    inputSchema: obj({ message: str('the error text') }, []),
    run: ({ message }) => ({ ...text(message ? String(message) : 'tiny: this tool always fails'), isError: true }),
  },
  {
    name: 'multi',
    description: 'Returns several content blocks of different types plus structuredContent.',
    inputSchema: obj({}),
    outputSchema: obj({ count: { type: 'number' }, kinds: { type: 'array', items: { type: 'string' } } }),
    run: () => ({
      content: [
        { type: 'text', text: 'first block' },
        { type: 'text', text: 'second block' },
        { type: 'image', data: PNG_1X1, mimeType: 'image/png' },
        { type: 'resource', resource: { uri: 'tiny://note', mimeType: 'text/plain', text: 'an embedded resource' } },
      ],
      structuredContent: { count: 4, kinds: ['text', 'text', 'image', 'resource'] },
    }),
  },
  {
    name: 'slow',
    description: 'Sleeps for ms milliseconds, reporting progress when asked, then answers.',
    inputSchema: obj({ ms: { type: 'number', minimum: 0 } }),
    run: async ({ ms }, extra) => {
      const total = Math.max(0, Number(ms) || 0);
      const token = extra._meta?.progressToken;
      const steps = token === undefined ? 1 : 4;
      for (let i = 1; i <= steps; i++) {
        await sleep(total / steps, extra.signal);
        if (token !== undefined) {
          await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: steps } });
        }
      }
      return text(`slept ${total} ms`);
    },
  },
  {
    name: 'crash',
    description: 'Exits the server process at once, without answering.',
    inputSchema: obj({ code: { type: 'number' } }, []),
    run: ({ code }) => {
      process.stderr.write('tiny: crashing on request\n');
      process.exit(typeof code === 'number' ? code : 3);
    },
  },
  {
    name: 'sandbox_info',
    description: 'Reports uid, gid, writable paths, network interfaces, capabilities and limits as seen from inside.',
    inputSchema: obj({}),
    run: () => {
      const info = sandboxInfo();
      return { ...text(JSON.stringify(info)), structuredContent: info };
    },
  },
];
for (let i = 1; i <= extraTools; i++) {
  tools.push({ name: `extra_${i}`, description: `Extra tool number ${i}.`, inputSchema: obj({}), run: () => text(`extra ${i}`) });
}
if (process.env.TINY_HOSTILE === '1') {
  tools.push({
    name: 'big',
    description: 'Returns a text block of `bytes` bytes.',
    inputSchema: obj({ bytes: { type: 'number', minimum: 0 } }),
    run: ({ bytes }) => text('b'.repeat(Number(bytes) || 0)),
  });
  tools.push({
    name: 'deep',
    description: 'Returns structuredContent nested `depth` levels deep.',
    inputSchema: obj({ depth: { type: 'number', minimum: 1 } }),
    run: ({ depth }) => {
      let v = {};
      for (let i = 1; i < Number(depth); i++) v = { d: v };
      return { ...text(`nested ${depth}`), structuredContent: v };
    },
  });
}
const byName = new Map(tools.map((t) => [t.name, t]));

const server = new Server({ name: 'tiny', version: VERSION }, { capabilities: { tools: {} } });

server.setRequestHandler(ListToolsRequestSchema, async (req) => {
  const listed = tools.map(({ run, ...t }) => t);
  if (!pageSize) return { tools: listed };
  const start = req.params?.cursor ? Number(Buffer.from(req.params.cursor, 'base64url').toString()) : 0;
  if (!Number.isInteger(start) || start < 0 || start > listed.length) throw new McpError(ErrorCode.InvalidParams, 'bad cursor');
  const end = start + pageSize;
  return {
    tools: listed.slice(start, end),
    ...(end < listed.length ? { nextCursor: Buffer.from(String(end)).toString('base64url') } : {}),
  };
});

server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
  const tool = byName.get(req.params.name);
  if (!tool) throw new McpError(ErrorCode.InvalidParams, `unknown tool ${req.params.name}`);
  return tool.run(req.params.arguments ?? {}, extra);
});

if (process.env.TINY_IGNORE_EOF === '1') setInterval(() => {}, 1 << 30);
else process.stdin.on('end', () => process.exit(0));

const logLines = Number(process.env.TINY_STDOUT_LOG || 0);
for (let i = 1; i <= logLines; i++) process.stdout.write(`tiny: log line ${i} of ${logLines}\n`);
const floodMb = Number(process.env.TINY_STDOUT_FLOOD || 0);
if (floodMb > 0) {
  const chunk = 'x'.repeat(1024 * 1024);
  for (let i = 0; i < floodMb; i++) {
    if (!process.stdout.write(chunk)) await new Promise((resolve) => process.stdout.once('drain', resolve));
  }
  process.stdout.write('\n');
}
if (process.env.TINY_EXIT_AFTER_OUTPUT === '1') process.stdout.write('', () => process.exit(1));
else await server.connect(new StdioServerTransport());

process.stderr.write(`tiny ${VERSION}: ready (pid ${process.pid}, uid ${process.getuid()})\n`);
