// The thinnest proxy a process can be: bytes from stdin to a child's stdin and back, no parsing. The runtime bench
// puts it between the client and the same child to show what one extra process hop costs on this machine.
// Usage: node scripts/bench/proxies/relay.mjs <command> [args...]
import { spawn } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
process.stdin.pipe(child.stdin);
child.stdout.pipe(process.stdout);
child.on('exit', (code) => process.exit(code ?? 0));
process.stdin.on('end', () => child.stdin.end());
