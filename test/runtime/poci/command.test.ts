import { describe, expect, it } from 'vitest';
import { renderPociCommand, type PociTool } from '../../../src/runtime/poci/command.js';

/** The real Docker catalog's poci tools (servers/curl and servers/ffmpeg server.yaml), as the docker source reads them. */
const curl: PociTool = {
  name: 'curl',
  image: 'alpine/curl',
  command: ['{{args|into}}'],
  inputSchema: { type: 'object', properties: { args: { type: 'array', items: { type: 'string' } } }, required: ['args'] },
};
const fileExists: PociTool = {
  name: 'file-exists',
  image: 'busybox',
  command: ['test', '-f', '{{path}}'],
  inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
};

describe('renderPociCommand: a poci tool call into its container command', () => {
  it('spreads a |into list into separate arguments, and fills a plain placeholder as one', () => {
    expect(renderPociCommand(curl, { args: ['-s', '-H', 'a: b', 'https://example.com'] })).toEqual({ ok: true, command: ['-s', '-H', 'a: b', 'https://example.com'] });
    expect(renderPociCommand(fileExists, { path: '/tmp/a b' })).toEqual({ ok: true, command: ['test', '-f', '/tmp/a b'] });
  });

  it('keeps values literal: no shell splitting, no secret or template expansion', () => {
    expect(renderPociCommand(curl, { args: ['$HOME', '${TOKEN}', '{{args}}', '; rm -rf /'] })).toEqual({ ok: true, command: ['$HOME', '${TOKEN}', '{{args}}', '; rm -rf /'] });
    // A string under |into stays one argument: there is no shell to split it.
    expect(renderPociCommand({ ...curl, inputSchema: { type: 'object', properties: { args: { type: 'string' } } } }, { args: '-s https://x' })).toEqual({ ok: true, command: ['-s https://x'] });
  });

  it('refuses missing required and unknown arguments, saying which', () => {
    expect(renderPociCommand(curl, {})).toEqual({ ok: false, reason: 'missing required argument "args" of tool curl' });
    expect(renderPociCommand(curl, { args: [], verbose: true })).toEqual({ ok: false, reason: 'unknown argument "verbose" of tool curl (it takes: args)' });
  });

  it('leaves out an item that renders empty, and says so when a template cannot be read', () => {
    const opt: PociTool = { name: 'opt', image: 'x', command: ['run', '{{flag}}', '{{rest|into}}'], inputSchema: { type: 'object', properties: { flag: { type: 'string' }, rest: { type: 'array' } } } };
    expect(renderPociCommand(opt, {})).toEqual({ ok: true, command: ['run'] });
    const bad: PociTool = { name: 'bad', image: 'x', command: ['{{a|shout}}'] };
    expect(renderPociCommand(bad, { a: 'x' })).toMatchObject({ ok: false, reason: expect.stringContaining('unknown filter "|shout"') });
  });
});
