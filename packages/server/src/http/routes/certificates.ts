import { encryptAeadAes256Gcm, formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import type { FastifyInstance } from 'fastify';
import { CertificatesQuery, type CertificatesResponse } from '../../contract/notify-settings.js';
import { errors } from '../../errors.js';
import type { ServerContext } from '../context.js';
import { usableCertificates } from '../signing-keys.js';
import { authenticatedMerchant } from './notify-settings.js';

/**
 * What WeChat answers (404 `RESOURCE_NOT_EXISTS`) to a merchant that has no platform certificate, word
 * for word: SDKs and merchants match on it.
 * @see docs/fidelity.md (Gateway: `/v3/certificates` for a `pubkey` merchant)
 */
const NO_PLATFORM_CERTIFICATE_MESSAGE =
  '无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥。可查看指引https://pay.weixin.qq.com/doc/v3/merchant/4012153196';

/**
 * GET /v3/certificates: the usable platform certificates, each encrypted under the caller's APIv3 key.
 * Merchants in public-key mode have none (404), as new merchants on the real platform.
 * @see docs/fidelity.md
 */
export async function registerCertificateRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.get(
    '/v3/certificates',
    { schema: { querystring: CertificatesQuery } },
    async (request): Promise<CertificatesResponse> => {
      const merchant = authenticatedMerchant(request);
      if (merchant.signingMode === 'pubkey') {
        throw errors.RESOURCE_NOT_EXISTS(NO_PLATFORM_CERTIFICATE_MESSAGE);
      }
      const { algorithm_type } = request.query as { algorithm_type?: 'RSA' | 'SM2' | 'ALL' };
      if (algorithm_type === 'SM2') return { data: [] };
      return {
        data: usableCertificates(ctx.platform, ctx.wallClock()).map((cert) => {
          const nonce = ctx.ids.token(12);
          return {
            serial_no: cert.serialNo,
            effective_time: formatBeijingTime(cert.notBefore),
            expire_time: formatBeijingTime(cert.expireTime),
            encrypt_certificate: {
              algorithm: 'AEAD_AES_256_GCM',
              nonce,
              associated_data: 'certificate',
              ciphertext: encryptAeadAes256Gcm({
                apiV3Key: merchant.apiV3Key,
                nonce,
                associatedData: 'certificate',
                plaintext: cert.certificatePem,
              }),
            },
          };
        }),
      };
    },
  );
}
