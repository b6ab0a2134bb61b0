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
 */
export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const options = { allErrors: false, useDefaults: false, removeAdditional: false, strict: false } as const;
  const strictAjv = new Ajv({ ...options, coerceTypes: false });
  const coercingAjv = new Ajv({ ...options, coerceTypes: true });
  addFormats(strictAjv);
  addFormats(coercingAjv);
  return ({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? strictAjv : coercingAjv;
    return ajv.compile(schema as object) as ReturnType<FastifySchemaCompiler<unknown>>;
  };
}
