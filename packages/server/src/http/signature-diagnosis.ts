import type { KeyObject } from 'node:crypto';
import {
  buildRequestSigningString,
  type RequestSigningInput,
  verifyMessage,
} from '@wechatpay-sandbox/sdk/protocol';

/**
 * Explains a request signature that does not verify by checking it against the signing strings that
 * the most common client mistakes produce. Runs only after a failure, so it costs nothing on success.
 * @see docs/protocol.md §1.7
 */

/** A mistake whose signing string the signature matched, or why none could be identified. */
export interface SignatureDiagnosis {
  mistake: string;
  hint: string;
}

interface Candidate {
  mistake: string;
  hint: string;
  message: () => string | undefined;
}

/** Tries each known mistake; returns the first whose signing string the signature verifies against. */
export function diagnoseSignature(
  input: RequestSigningInput & { host?: string },
  signatureBase64: string,
  key: KeyObject,
): SignatureDiagnosis {
  const length = Buffer.from(signatureBase64, 'base64').length;
  if (length !== 256) {
    return {
      mistake: 'signature-length',
      hint: `the signature decodes to ${length} bytes, not the 256 of an RSA-2048 SHA256-with-RSA signature: sign with apiclient_key.pem and base64-encode the result`,
    };
  }
  const exact = buildRequestSigningString(input);
  const query = input.canonicalUrl.indexOf('?');
  const candidates: Candidate[] = [
    {
      mistake: 'query-dropped',
      hint: 'the signature covers the path without its query string: sign the path and query exactly as sent',
      message: () =>
        query < 0
          ? undefined
          : buildRequestSigningString({ ...input, canonicalUrl: input.canonicalUrl.slice(0, query) }),
    },
    {
      mistake: 'body-reserialized',
      hint: 'the signature covers a re-serialized body (other key order or whitespace): sign the exact bytes you send',
      message: () => {
        const reserialized = reserialize(input.body);
        return reserialized === undefined || reserialized === input.body
          ? undefined
          : buildRequestSigningString({ ...input, body: reserialized });
      },
    },
    {
      mistake: 'body-omitted',
      hint: 'the signature covers an empty body: sign the request body too',
      message: () => (input.body === '' ? undefined : buildRequestSigningString({ ...input, body: '' })),
    },
    {
      mistake: 'host-included',
      hint: 'the signature covers a full URL: sign only the path and query, without scheme and host',
      message: () =>
        buildRequestSigningString({
          ...input,
          canonicalUrl: `https://api.mch.weixin.qq.com${input.canonicalUrl}`,
        }),
    },
    {
      mistake: 'host-included',
      hint: 'the signature covers a full URL: sign only the path and query, without scheme and host',
      message: () =>
        input.host
          ? buildRequestSigningString({ ...input, canonicalUrl: `http://${input.host}${input.canonicalUrl}` })
          : undefined,
    },
    {
      mistake: 'final-newline-missing',
      hint: 'the signing string lacks its final "\\n": every one of the five lines, the body line too, ends with a newline',
      message: () => exact.slice(0, -1),
    },
    {
      mistake: 'method-case',
      hint: 'the signature covers a lower-case method: use the upper-case HTTP method',
      message: () => exact.replace(/^[A-Z]+/, (m) => m.toLowerCase()),
    },
    {
      mistake: 'path-decoded',
      hint: 'the signature covers a percent-decoded path: sign the encoded path exactly as sent',
      message: () => {
        const decoded = safeDecode(input.canonicalUrl);
        return decoded === input.canonicalUrl
          ? undefined
          : buildRequestSigningString({ ...input, canonicalUrl: decoded });
      },
    },
  ];
  for (const candidate of candidates) {
    const message = candidate.message();
    if (message !== undefined && verifyMessage(message, signatureBase64, key)) {
      return { mistake: candidate.mistake, hint: candidate.hint };
    }
  }
  return {
    mistake: 'unknown',
    hint: 'the signature matches no common mistake: check that serial_no names the certificate of the private key you sign with',
  };
}

function reserialize(body: string): string | undefined {
  try {
    return JSON.stringify(JSON.parse(body));
  } catch {
    return undefined;
  }
}

function safeDecode(url: string): string {
  try {
    return decodeURI(url);
  } catch {
    return url;
  }
}
