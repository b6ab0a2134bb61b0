import { ERROR_CATALOG, type ErrorKey, paramError } from '../../errors.js';
import { type HttpFault, SEND_RESULT_ERRCODES, SIM_SEND_PATH_PREFIX } from './action.js';

/**
 * The HTTP case of a fault (`/v3` paths): which codes and statuses it may fail with, and the error it
 * answers.
 */

/**
 * Statuses a code may be answered with, as the docs list them (docs/protocol.md §5.3): the catalog status
 * first (the default), then documented alternatives. Codes not listed here only have their catalog status.
 */
export const FAULT_STATUS_ALTERNATIVES: Readonly<Record<string, readonly number[]>> = {
  // Busifavor lists a 400 variant of SYSTEM_ERROR.
  SYSTEM_ERROR: [500, 400],
  // "502 and 503 map to SERVICE_UNAVAILABLE".
  SERVICE_UNAVAILABLE: [503, 502],
  // "across families MCH_NOT_EXISTS is 400 or 404".
  MCH_NOT_EXISTS: [400, 404],
};

/** Resolves a code (a wire code, or the catalog key SYSTEM_ERROR_400) and an optional status. */
export function resolveFaultError(
  code: string,
  status: number | undefined,
  field: { code: string; status: string; location: 'body' | 'header' },
): { code: string; status: number } {
  const known = code in ERROR_CATALOG;
  if (!known && code in SEND_RESULT_ERRCODES) {
    throw paramError(
      field.code,
      `${code} is a plugin send result, only for ${SIM_SEND_PATH_PREFIX}… paths`,
      field.location,
      code,
    );
  }
  if (!known) {
    throw paramError(
      field.code,
      `unknown error code; use one of ${Object.keys(ERROR_CATALOG).join(', ')}`,
      field.location,
      code,
    );
  }
  const key = code as ErrorKey;
  const wire = key === 'SYSTEM_ERROR_400' ? 'SYSTEM_ERROR' : key;
  const catalogStatus: number = ERROR_CATALOG[key].status;
  const allowed = FAULT_STATUS_ALTERNATIVES[wire] ?? [catalogStatus];
  if (status === undefined) return { code: wire, status: catalogStatus };
  if (!allowed.includes(status)) {
    throw paramError(
      field.status,
      `${wire} is documented only with status ${allowed.join(' or ')}`,
      field.location,
      status,
    );
  }
  return { code: wire, status };
}

/** The HTTP fault for a resolved code and status; the catalog's message unless one is given. */
export function httpFault(
  error: { code: string; status: number; message?: string | null },
  delayMs: number,
): HttpFault {
  const message = error.message ?? defaultMessage(error.code, error.status);
  return { kind: 'http', delayMs, code: error.code, status: error.status, message };
}

function defaultMessage(code: string, status: number): string {
  if (code === 'SYSTEM_ERROR' && status === 400) return ERROR_CATALOG.SYSTEM_ERROR_400.message;
  const entry = ERROR_CATALOG[code as ErrorKey];
  return entry ? entry.message : ERROR_CATALOG.SYSTEM_ERROR.message;
}

/** Checks a rule's `/v3` path: no query, `{name}` for a path parameter. */
export function checkHttpRulePath(path: string): void {
  if (!/^\/v3\/[\x21-\x7e]{1,505}$/.test(path) || path.includes('?')) {
    throw paramError(
      '/path',
      `must be a /v3/… path without a query, with {name} for a path parameter, or a ${SIM_SEND_PATH_PREFIX}… path`,
      'body',
      path,
    );
  }
}
