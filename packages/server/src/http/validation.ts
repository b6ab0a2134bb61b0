import AjvModule from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// CJS default-export interop under NodeNext.
const Ajv = AjvModule.default ?? AjvModule;
const addFormats = addFormatsModule.default ?? addFormatsModule;

/**
 * Validators for route schemas. JSON bodies are validated strictly: no type coercion, because WeChat
 * refuses `"mchid": 1900000001` (a number where a string belongs) rather than converting it. Path and
 * query values are strings on the wire, so those are coerced to the schema's types.
 *
 * Members a WeChat (`/v3/…`) body schema does not name are removed before the handler sees them, at
 * every depth: APIv3 maps known input fields onto its targets and ignores the rest, so an unknown field
 * is neither an error nor stored, echoed or merged (docs/fidelity.md, "Unknown request fields"). The
 * simulation API is ours and stays strict: its schemas reject unknown members.
 */
export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const options = { allErrors: false, useDefaults: false, removeAdditional: false, strict: false } as const;
  const strictAjv = new Ajv({ ...options, coerceTypes: false });
  const strippingAjv = new Ajv({ ...options, coerceTypes: false, removeAdditional: 'all' });
  const coercingAjv = new Ajv({ ...options, coerceTypes: true });
  addFormats(strictAjv);
  addFormats(strippingAjv);
  addFormats(coercingAjv);
  return ({ schema, httpPart, url }) => {
    const body = url.startsWith('/v3/') ? strippingAjv : strictAjv;
    const ajv = httpPart === 'body' ? body : coercingAjv;
    return ajv.compile(schema as object) as ReturnType<FastifySchemaCompiler<unknown>>;
  };
}
