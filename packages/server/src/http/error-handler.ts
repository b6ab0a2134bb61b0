import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { RFC3339_ISSUE, RFC3339_PATTERN } from '../contract/busifavor/common.js';
import { type ErrorDetail, errors, WechatError } from '../errors.js';
import { answerBodyTooLarge, bodyTooLargeError } from './body-too-large.js';

const LOCATIONS: Record<string, ErrorDetail['location']> = {
  body: 'body',
  querystring: 'query',
  params: 'path',
  headers: 'header',
};

/**
 * Renders every failure as WeChat's `{"code","message","detail"?}`. Validation and other client errors
 * become 4xx; only real faults are 500 SYSTEM_ERROR, and never with a stack trace.
 */
export function toWechatError(error: unknown): WechatError {
  if (error instanceof WechatError) return error;
  const err = error as FastifyError & { validationContext?: string };
  if (err.validation && err.validation.length > 0) {
    const first = err.validation[0] as {
      instancePath?: string;
      keyword?: string;
      message?: string;
      params?: { missingProperty?: string; pattern?: string };
    };
    const location = LOCATIONS[err.validationContext ?? 'body'] ?? 'body';
    let pointer = first.instancePath ?? '';
    if (first.params?.missingProperty) pointer = `${pointer}/${first.params.missingProperty}`;
    // JSON Pointer in the body; a bare name for path and query parameters.
    const field = location === 'body' ? pointer || '/' : pointer.replace(/^\//, '');
    // A time's shape is told in words, not as the regular expression it failed.
    const issue =
      first.keyword === 'pattern' && first.params?.pattern === RFC3339_PATTERN
        ? RFC3339_ISSUE
        : (first.message ?? 'is invalid');
    return errors.PARAM_ERROR(`参数错误：${field || location} ${issue}`, { field, issue, location });
  }
  const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
  if (status === 413) return bodyTooLargeError();
  if (status >= 400 && status < 500) {
    return new WechatError('INVALID_REQUEST', 400, errors.INVALID_REQUEST().message, {
      issue: err.message,
    });
  }
  return errors.SYSTEM_ERROR();
}

/** Fastify error handler. */
export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const wechat = toWechatError(error);
  request.errorCode = wechat.code;
  if (wechat.status === 413) {
    answerBodyTooLarge(request, reply);
    return;
  }
  if (wechat.status >= 500 && !(error instanceof WechatError)) {
    request.log.error({ err: error }, 'unhandled error');
  } else if (wechat.code === 'SIGN_ERROR') {
    // Why a signature was refused, for the request log; never the signing string (it carries the body).
    request.log.warn({ issue: wechat.detail?.issue, mistake: wechat.detail?.mistake }, 'signature rejected');
  }
  void reply.code(wechat.status).type('application/json').send(wechat.toBody());
}
