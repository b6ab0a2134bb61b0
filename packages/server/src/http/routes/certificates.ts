import { encryptAeadAes256Gcm, formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import type { PLATFORM_ENDPOINTS } from '../../contract/endpoints/platform.js';
import { usableCertificates } from '../../credentials/signing-keys.js';
import { errors } from '../../errors.js';
import type { ServerContext } from '../context.js';
import type { EndpointHandler } from '../endpoints.js';

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
export function certificatesHandler(
  ctx: Pick<ServerContext, 'platform' | 'wallClock' | 'ids'>,
): EndpointHandler<typeof PLATFORM_ENDPOINTS.listCertificates> {
  return async ({ query }, { merchant }) => {
    if (merchant.signingMode === 'pubkey') {
      throw errors.RESOURCE_NOT_EXISTS(NO_PLATFORM_CERTIFICATE_MESSAGE);
    }
    if (query.algorithm_type === 'SM2') return { data: [] };
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
  };
}
