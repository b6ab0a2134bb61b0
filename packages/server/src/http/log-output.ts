/**
 * Where the server log goes and how it looks: pino's JSON lines as they are, or, on a terminal, one
 * compact human line each (`12:03:04 POST /v3/… 200 3.1ms mchid=… rid=…`), written by
 * {@link prettyLogLine} (no pino-pretty). The JSON lines are the format to collect and search.
 */

/** Receives pino's output: one JSON line (ending in a newline) per write. */
export interface LogDestination {
  write(line: string): void;
}

/** Where the log goes. */
export interface LogOutput {
  /** @default process.stdout */
  destination?: LogDestination;
  /**
   * Compact human lines instead of JSON.
   * @default true when the log goes to process.stdout and it is a terminal (TTY), else false
   */
  pretty?: boolean;
}

/** pino's numeric levels. */
const LEVEL_NAMES: Readonly<Record<number, string>> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** The message of the one line every request gets (see request-log.ts). */
export const REQUEST_LOG_MESSAGE = 'request';

/** Fields of pino's envelope and of the request line that the pretty form prints its own way. */
const ENVELOPE = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'reqId']);
const REQUEST_FIELDS = new Set(['method', 'path', 'status', 'code', 'ms', 'mchid', 'rid']);

/** The stream the logger writes to, per {@link LogOutput}. */
export function logDestination(output: LogOutput = {}): LogDestination {
  const destination = output.destination ?? coalescedStdout();
  const pretty = output.pretty ?? (output.destination === undefined && process.stdout.isTTY === true);
  if (!pretty) return destination;
  return {
    write(chunk: string) {
      let out = '';
      for (const line of chunk.split('\n')) if (line !== '') out += `${prettyLogLine(line)}\n`;
      destination.write(out);
    },
  };
}

/** Log lines waiting for the end of the event loop's turn, of every app in this process. */
let pendingStdout = '';
let flushOnExit = false;

function flushStdout(): void {
  if (pendingStdout === '') return;
  const out = pendingStdout;
  pendingStdout = '';
  process.stdout.write(out);
}

/**
 * process.stdout, with the lines of one event-loop turn written together: a write to a pipe or terminal
 * is a blocking system call on Linux, and under load one turn answers many requests. A line waits at
 * most for the end of its turn; whatever is pending is written when the process exits. One buffer and
 * one exit hook serve every app of the process.
 */
function coalescedStdout(): LogDestination {
  if (!flushOnExit) {
    flushOnExit = true;
    process.once('exit', flushStdout);
  }
  return {
    write(line: string) {
      if (pendingStdout === '') setImmediate(flushStdout);
      pendingStdout += line;
    },
  };
}

/**
 * One pino JSON line as a compact human line: `HH:MM:SS` (local time), then for a request its method,
 * path, status, WeChat code, milliseconds, `mchid=` and `rid=`; for anything else the level, the message
 * and its other fields as `key=value`. A line that is not pino's JSON is returned unchanged.
 */
export function prettyLogLine(line: string): string {
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return line;
    record = parsed as Record<string, unknown>;
  } catch {
    return line;
  }
  const level = typeof record.level === 'number' ? record.level : 30;
  const parts = [clockTime(record.time)];
  const isRequest = record.msg === REQUEST_LOG_MESSAGE && typeof record.method === 'string';
  if (isRequest) {
    parts.push(String(record.method), String(record.path ?? ''), String(record.status ?? ''));
    if (record.code !== undefined) parts.push(String(record.code));
    if (typeof record.ms === 'number') parts.push(`${record.ms.toFixed(1)}ms`);
    if (record.mchid !== undefined) parts.push(`mchid=${String(record.mchid)}`);
    if (record.rid !== undefined) parts.push(`rid=${String(record.rid)}`);
  } else {
    parts.push(LEVEL_NAMES[level] ?? `L${level}`);
    if (record.msg !== undefined) parts.push(String(record.msg));
  }
  let stack: string | undefined;
  for (const [key, value] of Object.entries(record)) {
    if (ENVELOPE.has(key) || (isRequest && REQUEST_FIELDS.has(key))) continue;
    if (key === 'err' && typeof value === 'object' && value !== null) {
      const err = value as { message?: unknown; stack?: unknown };
      parts.push(`err=${JSON.stringify(String(err.message ?? ''))}`);
      if (typeof err.stack === 'string') stack = err.stack;
      continue;
    }
    parts.push(`${key}=${typeof value === 'string' && !/\s/.test(value) ? value : JSON.stringify(value)}`);
  }
  const text = parts.join(' ');
  return stack === undefined ? text : `${text}\n${indent(stack)}`;
}

function clockTime(time: unknown): string {
  const date = new Date(typeof time === 'number' ? time : Date.now());
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}
