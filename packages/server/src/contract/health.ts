import { Type } from '@sinclair/typebox';

/** GET /healthz: the process is up and serving HTTP. */
export const HealthResponse = Type.Object({
  status: Type.Literal('ok'),
  uptime_seconds: Type.Integer({ minimum: 0, description: 'Seconds since the server process built its app' }),
});

const Check = Type.Object({
  ok: Type.Boolean(),
  detail: Type.String({ description: 'Why it passed or failed, in a few words' }),
});

/** The readiness checks; a 503 carries the same object as `detail.checks`, with `detail.failed`. */
export const ReadinessChecks = Type.Object({
  database: Check,
  migrations: Check,
  dispatcher: Check,
});

/**
 * GET /readyz when every check passed. When one failed the answer is 503 SERVICE_UNAVAILABLE in WeChat's
 * error shape, `detail: {failed: [names], checks}`.
 */
export const ReadinessResponse = Type.Object({
  status: Type.Literal('ready'),
  checks: ReadinessChecks,
});
