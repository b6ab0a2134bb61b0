import { createHash } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import { ImageUploadMeta } from '../../contract/busifavor/media-image-upload.js';
import { errors, paramError } from '../../errors.js';
import type { MediaRecord } from './model.js';
import type { BusifavorDeps } from './ports.js';

/**
 * Marketing image upload (图片上传(营销专用)): checks the signed meta against the file and stores the
 * image's identity, so that stock creation can tell uploaded URLs from any other.
 * @see docs/protocol.md §7
 */

/** Largest image accepted: 2 MB. */
export const MAX_IMAGE_BYTES = 2 * 1024 * 1024;

/** One multipart part as the domain sees it. */
export interface UploadPart {
  name: string;
  filename?: string;
  data: Uint8Array;
}

const EXTENSIONS: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  bmp: 'image/bmp',
};

function sniff(data: Uint8Array): string | undefined {
  const b = (i: number) => data[i];
  if (b(0) === 0x89 && b(1) === 0x50 && b(2) === 0x4e && b(3) === 0x47) return 'image/png';
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return 'image/jpeg';
  if (b(0) === 0x42 && b(1) === 0x4d) return 'image/bmp';
  return undefined;
}

/** Validates an upload and stores it; returns the permanent media URL. */
export async function uploadImage(
  deps: BusifavorDeps,
  caller: string,
  parts: readonly UploadPart[],
): Promise<string> {
  const metaPart = parts.find((p) => p.name === 'meta');
  const filePart = parts.find((p) => p.name === 'file');
  if (!metaPart) throw paramError('meta', '缺少meta部分', 'body');
  if (!filePart) throw paramError('file', '缺少file部分', 'body');
  let meta: unknown;
  try {
    meta = JSON.parse(Buffer.from(metaPart.data).toString('utf8'));
  } catch {
    throw paramError('meta', '不是合法的JSON', 'body');
  }
  if (!Value.Check(ImageUploadMeta, meta)) {
    const first = [...Value.Errors(ImageUploadMeta, meta)][0];
    throw paramError(`meta${first?.path ?? ''}`, first?.message ?? '格式不正确', 'body');
  }
  const ext = /\.([A-Za-z]+)$/.exec(meta.filename)?.[1]?.toLowerCase() ?? '';
  const expectedType = EXTENSIONS[ext];
  if (!expectedType)
    throw paramError('meta/filename', '文件扩展名只支持jpg、bmp、png', 'body', meta.filename);
  if (filePart.data.length === 0) throw paramError('file', '文件为空', 'body');
  if (filePart.data.length > MAX_IMAGE_BYTES) throw paramError('file', '图片大小不能超过2M', 'body');
  const digest = createHash('sha256').update(filePart.data).digest('hex');
  if (digest !== meta.sha256.toLowerCase()) {
    throw errors.PARAM_ERROR('图片sha256值与meta中的sha256不一致', {
      field: 'meta/sha256',
      value: meta.sha256,
      location: 'body',
      issue: `the file's SHA-256 is ${digest}`,
    });
  }
  const contentType = sniff(filePart.data);
  if (!contentType) throw paramError('file', '图片格式只支持JPG、BMP、PNG', 'body');
  const now = deps.clock.now(caller);
  const media: MediaRecord = {
    mediaUrl: `https://wxpaylogo.qpic.cn/wxpaylogo/${deps.ids.token(46)}/0`,
    mchid: caller,
    filename: meta.filename,
    sha256: digest,
    contentType,
    size: filePart.data.length,
    createdAt: now,
  };
  await deps.store.transaction((tx) => tx.media.insert(media));
  return media.mediaUrl;
}
