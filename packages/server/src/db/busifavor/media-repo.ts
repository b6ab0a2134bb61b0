import type { Kysely, Transaction } from 'kysely';
import type { MediaRecord } from '../../domain/busifavor/model.js';
import type { MediaLibrary, MediaReader } from '../../domain/busifavor/ports.js';
import type { DatabaseSchema } from '../schema.js';

/** Reads of uploaded images over the root database or a transaction. */
export class SqlMediaReader implements MediaReader {
  constructor(protected readonly db: Kysely<DatabaseSchema>) {}

  async find(mediaUrl: string): Promise<MediaRecord | undefined> {
    const row = await this.db
      .selectFrom('busifavor_media')
      .selectAll()
      .where('media_url', '=', mediaUrl)
      .executeTakeFirst();
    return row
      ? {
          mediaUrl: row.media_url,
          mchid: row.mchid,
          filename: row.filename,
          sha256: row.sha256,
          contentType: row.content_type,
          size: Number(row.size),
          createdAt: Number(row.created_at),
        }
      : undefined;
  }
}

/** Uploaded images inside a transaction. */
export class SqlMediaLibrary extends SqlMediaReader implements MediaLibrary {
  constructor(db: Transaction<DatabaseSchema>) {
    super(db);
  }

  async insert(m: MediaRecord): Promise<void> {
    await this.db
      .insertInto('busifavor_media')
      .values({
        media_url: m.mediaUrl,
        mchid: m.mchid,
        filename: m.filename,
        sha256: m.sha256,
        content_type: m.contentType,
        size: m.size,
        created_at: m.createdAt,
      })
      .execute();
  }
}
