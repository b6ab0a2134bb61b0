import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OPERATIONS, SANDBOX_METHODS, SIMULATION_OPERATIONS } from '@wechatpay-sandbox/sdk';
import { describe, expect, it } from 'vitest';
import { ENDPOINTS } from '../src/contract/endpoints/index.js';
import { renderSdkOperations, SDK_OPERATIONS_FILE } from '../src/contract/sdk-operations.js';

/**
 * The SDK's operation list (packages/sdk/src/client/operations.generated.ts) is what `npm run generate`
 * writes from the endpoint table now: a table entry added, removed or changed without regenerating fails
 * here, and the SDK's build then fails until every operation has a client method (`SDK_METHODS` for
 * APIv3, `SANDBOX_METHODS` for the simulation API).
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');

describe('the SDK operations file', () => {
  it('is what the generator writes from the current endpoint table (otherwise: npm run generate)', () => {
    const onDisk = readFileSync(join(ROOT, SDK_OPERATIONS_FILE), 'utf8');
    expect(onDisk, `${SDK_OPERATIONS_FILE} is stale: run npm run generate`).toBe(
      renderSdkOperations(ENDPOINTS),
    );
  });

  it('lists every APIv3 operation, sorted by id, and neither /metrics nor the simulation API', () => {
    const ids = Object.keys(OPERATIONS);
    expect(ids).toEqual([...ids].sort());
    expect(ids).toContain('createStock');
    expect(ids).not.toContain('metrics');
    for (const op of Object.values(OPERATIONS)) expect(op.path).toMatch(/^\/v3\//);
  });

  it('lists every /sandbox/v1 operation of the table, each with a sandbox client method', () => {
    const simulation = Object.values(ENDPOINTS)
      .filter((e) => e.family === 'simulation')
      .map((e) => e.id)
      .sort();
    expect(Object.keys(SIMULATION_OPERATIONS)).toEqual(simulation);
    for (const op of Object.values(SIMULATION_OPERATIONS)) expect(op.path).toMatch(/^\/sandbox\/v1\//);
    expect(Object.keys(SANDBOX_METHODS).sort()).toEqual(simulation);
    expect(new Set(Object.values(SANDBOX_METHODS)).size, 'one method per operation').toBe(simulation.length);
  });

  it('renders the same text whatever the order of the table', () => {
    const reversed = Object.fromEntries(Object.entries(ENDPOINTS).reverse());
    expect(renderSdkOperations(reversed)).toBe(renderSdkOperations(ENDPOINTS));
  });
});
