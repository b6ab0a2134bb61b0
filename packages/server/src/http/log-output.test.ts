import { describe, expect, it } from 'vitest';
import { logDestination, prettyLogLine } from './log-output.js';

/** The compact human form of pino's JSON lines, used when the log goes to a terminal. */

const at = new Date(2026, 0, 2, 3, 4, 5).getTime();

describe('prettyLogLine', () => {
  it('writes a request as time, method, path, status, milliseconds, mchid and Request-ID', () => {
    const line = JSON.stringify({
      level: 30,
      time: at,
      pid: 1,
      hostname: 'h',
      msg: 'request',
      method: 'POST',
      path: '/v3/marketing/busifavor/stocks',
      status: 200,
      ms: 3.14,
      mchid: '1900000001',
      rid: 'ABC',
    });
    expect(prettyLogLine(line)).toBe(
      '03:04:05 POST /v3/marketing/busifavor/stocks 200 3.1ms mchid=1900000001 rid=ABC',
    );
  });

  it('puts the WeChat code after the status and leaves out an absent mchid', () => {
    const line = JSON.stringify({
      level: 30,
      time: at,
      msg: 'request',
      method: 'GET',
      path: '/x',
      status: 401,
      code: 'SIGN_ERROR',
      ms: 0.25,
      rid: 'R',
    });
    expect(prettyLogLine(line)).toBe('03:04:05 GET /x 401 SIGN_ERROR 0.3ms rid=R');
  });

  it('writes other lines as level, message and fields, with an error stack indented below', () => {
    expect(
      prettyLogLine(
        JSON.stringify({
          level: 40,
          time: at,
          msg: 'signature rejected',
          reqId: 'R',
          mistake: 'query-dropped',
          issue: 'two words',
        }),
      ),
    ).toBe('03:04:05 WARN signature rejected mistake=query-dropped issue="two words"');
    const err = { type: 'Error', message: 'boom', stack: 'Error: boom\n    at here' };
    expect(prettyLogLine(JSON.stringify({ level: 50, time: at, msg: 'unhandled error', err }))).toBe(
      '03:04:05 ERROR unhandled error err="boom"\n    Error: boom\n        at here',
    );
  });

  it('returns a line that is not a JSON object unchanged', () => {
    expect(prettyLogLine('plain text')).toBe('plain text');
    expect(prettyLogLine('[1,2]')).toBe('[1,2]');
  });
});

describe('logDestination', () => {
  it('passes JSON through unless pretty, and then formats each line of a write', () => {
    let out = '';
    const sink = {
      write: (s: string) => {
        out += s;
      },
    };
    const json = `${JSON.stringify({ level: 30, time: at, msg: 'hello' })}\n`;
    logDestination({ destination: sink }).write(json);
    expect(out).toBe(json);
    out = '';
    logDestination({ destination: sink, pretty: true }).write(json + json);
    expect(out).toBe('03:04:05 INFO hello\n03:04:05 INFO hello\n');
  });
});
