import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AssociateBody } from '../../contract/busifavor/coupons-associate.js';
import { DeactivateCouponBody } from '../../contract/busifavor/coupons-deactivate.js';
import { GetUserCouponParams } from '../../contract/busifavor/coupons-get.js';
import { ListUserCouponsQuery, OpenidParams } from '../../contract/busifavor/coupons-list.js';
import { ReturnCouponBody } from '../../contract/busifavor/coupons-return.js';
import { SendCouponBody, type SendCouponResponse } from '../../contract/busifavor/coupons-send.js';
import { UseCouponBody } from '../../contract/busifavor/coupons-use.js';
import type { ImageUploadResponse } from '../../contract/busifavor/media-image-upload.js';
import { ModifyBudgetBody } from '../../contract/busifavor/stocks-budget.js';
import { UploadCodesBody } from '../../contract/busifavor/stocks-couponcodes.js';
import {
  DeleteCodeQuery,
  GetCodeQuery,
  ListCodesQuery,
  StockCodeParams,
} from '../../contract/busifavor/stocks-couponcodes-pool.js';
import { CreateStockBody } from '../../contract/busifavor/stocks-create.js';
import { StockIdParams } from '../../contract/busifavor/stocks-get.js';
import { ModifyStockBody } from '../../contract/busifavor/stocks-modify.js';
import {
  CreateSubsidyPayReceiptBody,
  SubsidyReceiptParams,
} from '../../contract/busifavor/subsidy-pay-receipts.js';
import {
  CreateSubsidyReturnReceiptBody,
  ListSubsidyPayReceiptsQuery,
  SubsidyReturnReceiptParams,
} from '../../contract/busifavor/subsidy-return-receipts.js';
import { SqlBusifavorStore } from '../../db/busifavor/store.js';
import { deleteCode, getCode, listCodes, uploadCodes } from '../../domain/busifavor/codes.js';
import {
  associateCoupon,
  deactivateCoupon,
  disassociateCoupon,
  getUserCoupon,
  listUserCoupons,
  returnCoupon,
  useCoupon,
} from '../../domain/busifavor/coupons.js';
import { uploadImage } from '../../domain/busifavor/media.js';
import type { BusifavorDeps } from '../../domain/busifavor/model.js';
import { createStock, getStock, modifyBudget, modifyStock } from '../../domain/busifavor/stocks.js';
import {
  createSubsidyPayReceipt,
  createSubsidyReturnReceipt,
  getSubsidyPayReceipt,
  getSubsidyReturnReceipt,
  listSubsidyPayReceipts,
} from '../../domain/busifavor/subsidy.js';
import { errors } from '../../errors.js';
import { enqueueNotification } from '../../outbox/enqueue.js';
import { apiSend } from '../../sim/send.js';
import { SqlSubsidyOutcomeStore } from '../../sim/subsidy-outcomes-repo.js';
import { SimUserRepo } from '../../sim/users.js';
import type { ServerContext } from '../context.js';
import { caller } from './notify-settings.js';
import { registerSimBusifavorRoutes } from './sim-busifavor.js';

/**
 * The merchant-coupon (busifavor) APIs of seed 002 under `/v3/marketing/busifavor/…`, the marketing
 * image upload, and (through {@link registerSimBusifavorRoutes}) the simulation API that sends coupons
 * to simulated users. Handlers only map wire ↔ domain; the rules live in domain/busifavor.
 * @see ../../../../../../shared/docs/busifavor.md
 */

/** The busifavor adapters over the server's database. */
export interface BusifavorAdapters {
  deps: BusifavorDeps;
  users: SimUserRepo;
  /** The subsidy outcome rules: the domain's port in `deps`, and the simulation API's store. */
  subsidyOutcomes: SqlSubsidyOutcomeStore;
}

/** Wires the busifavor ports to SQL adapters. */
export function createBusifavorAdapters(ctx: ServerContext): BusifavorAdapters {
  const users = new SimUserRepo(ctx.db.db, ctx.ids, ctx.clock);
  const store = new SqlBusifavorStore(ctx.db.db, {
    capabilities: ctx.db.capabilities,
    enqueue: async (db, event, nowMs) => {
      await enqueueNotification(db, event, nowMs);
    },
  });
  const subsidyOutcomes = new SqlSubsidyOutcomeStore(ctx.db.db, ctx.wallClock);
  return {
    deps: { store, directory: users, clock: ctx.clock, ids: ctx.ids, subsidyOutcomes },
    users,
    subsidyOutcomes,
  };
}

const BASE = '/v3/marketing/busifavor';

/** Registers every busifavor route and the busifavor simulation API. */
export async function registerBusifavorRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const adapters = createBusifavorAdapters(ctx);
  const { deps } = adapters;

  app.post(`${BASE}/stocks`, { schema: { body: CreateStockBody } }, async (request) =>
    createStock(deps, caller(request), request.body as CreateStockBody),
  );

  app.get(`${BASE}/stocks/:stock_id`, { schema: { params: StockIdParams } }, async (request) =>
    getStock(deps, caller(request), stockIdOf(request)),
  );

  app.patch(
    `${BASE}/stocks/:stock_id`,
    {
      schema: { params: StockIdParams, body: ModifyStockBody },
    },
    async (request, reply) => {
      await modifyStock(deps, caller(request), stockIdOf(request), request.body as ModifyStockBody);
      return reply.code(204).send();
    },
  );

  app.patch(
    `${BASE}/stocks/:stock_id/budget`,
    { schema: { params: StockIdParams, body: ModifyBudgetBody } },
    async (request) =>
      modifyBudget(deps, caller(request), stockIdOf(request), request.body as ModifyBudgetBody),
  );

  app.post(
    `${BASE}/stocks/:stock_id/couponcodes`,
    { schema: { params: StockIdParams, body: UploadCodesBody } },
    async (request) =>
      uploadCodes(deps, caller(request), stockIdOf(request), request.body as UploadCodesBody),
  );

  app.get(
    `${BASE}/stocks/:stock_id/couponcodes`,
    { schema: { params: StockIdParams, querystring: ListCodesQuery } },
    async (request) => listCodes(deps, caller(request), stockIdOf(request), request.query as ListCodesQuery),
  );

  app.get(
    `${BASE}/stocks/:stock_id/couponcodes/:coupon_code`,
    { schema: { params: StockCodeParams, querystring: GetCodeQuery } },
    async (request) => {
      const p = request.params as StockCodeParams;
      return getCode(deps, caller(request), p.stock_id, p.coupon_code, (request.query as GetCodeQuery).appid);
    },
  );

  app.delete(
    `${BASE}/stocks/:stock_id/couponcodes/:coupon_code`,
    { schema: { params: StockCodeParams, querystring: DeleteCodeQuery } },
    async (request) => {
      const p = request.params as StockCodeParams;
      return deleteCode(deps, caller(request), p.stock_id, p.coupon_code, request.query as DeleteCodeQuery);
    },
  );

  app.post(`${BASE}/coupons/use`, { schema: { body: UseCouponBody } }, async (request) =>
    useCoupon(deps, caller(request), request.body as UseCouponBody),
  );

  app.get(
    `${BASE}/users/:openid/coupons`,
    { schema: { params: OpenidParams, querystring: ListUserCouponsQuery } },
    async (request) =>
      listUserCoupons(
        deps,
        caller(request),
        (request.params as { openid: string }).openid,
        request.query as ListUserCouponsQuery,
      ),
  );

  app.get(
    `${BASE}/users/:openid/coupons/:coupon_code/appids/:appid`,
    { schema: { params: GetUserCouponParams } },
    async (request) => {
      const p = request.params as GetUserCouponParams;
      return getUserCoupon(deps, caller(request), p.openid, p.coupon_code, p.appid);
    },
  );

  app.post(`${BASE}/coupons/associate`, { schema: { body: AssociateBody } }, async (request) =>
    associateCoupon(deps, caller(request), request.body as AssociateBody),
  );

  app.post(`${BASE}/coupons/disassociate`, { schema: { body: AssociateBody } }, async (request) =>
    disassociateCoupon(deps, caller(request), request.body as AssociateBody),
  );

  app.post(`${BASE}/coupons/return`, { schema: { body: ReturnCouponBody } }, async (request) =>
    returnCoupon(deps, caller(request), request.body as ReturnCouponBody),
  );

  app.post(`${BASE}/coupons/deactivate`, { schema: { body: DeactivateCouponBody } }, async (request) =>
    deactivateCoupon(deps, caller(request), request.body as DeactivateCouponBody),
  );

  app.post(
    `${BASE}/coupons/send`,
    { schema: { body: SendCouponBody } },
    async (request): Promise<SendCouponResponse> =>
      apiSend(adapters, caller(request), request.body as SendCouponBody),
  );

  app.post(
    `${BASE}/subsidy/pay-receipts`,
    { schema: { body: CreateSubsidyPayReceiptBody } },
    async (request) =>
      createSubsidyPayReceipt(deps, caller(request), request.body as CreateSubsidyPayReceiptBody),
  );

  app.get(
    `${BASE}/subsidy/pay-receipts/:subsidy_receipt_id`,
    { schema: { params: SubsidyReceiptParams } },
    async (request) =>
      getSubsidyPayReceipt(
        deps,
        caller(request),
        (request.params as { subsidy_receipt_id: string }).subsidy_receipt_id,
      ),
  );

  app.get(
    `${BASE}/subsidy/pay-receipts`,
    { schema: { querystring: ListSubsidyPayReceiptsQuery } },
    async (request) =>
      listSubsidyPayReceipts(deps, caller(request), request.query as ListSubsidyPayReceiptsQuery),
  );

  app.post(
    `${BASE}/subsidy/return-receipts`,
    { schema: { body: CreateSubsidyReturnReceiptBody } },
    async (request) =>
      createSubsidyReturnReceipt(deps, caller(request), request.body as CreateSubsidyReturnReceiptBody),
  );

  app.get(
    `${BASE}/subsidy/return-receipts/:subsidy_return_receipt_id`,
    { schema: { params: SubsidyReturnReceiptParams } },
    async (request) =>
      getSubsidyReturnReceipt(
        deps,
        caller(request),
        (request.params as { subsidy_return_receipt_id: string }).subsidy_return_receipt_id,
      ),
  );

  app.post('/v3/marketing/favor/media/image-upload', async (request): Promise<ImageUploadResponse> => {
    const parts = request.multipartParts;
    if (!parts) {
      throw errors.INVALID_REQUEST('Content-Type 必须为 multipart/form-data', {
        location: 'header',
        field: 'Content-Type',
      });
    }
    return { media_url: await uploadImage(deps, caller(request), parts) };
  });

  await registerSimBusifavorRoutes(app, ctx, adapters);
}

function stockIdOf(request: FastifyRequest): string {
  return (request.params as { stock_id: string }).stock_id;
}
