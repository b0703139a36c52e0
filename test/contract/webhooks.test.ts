/**
 * The webhooks' ports (WebhookRepository, WebhookStatusStore, OwnerEmailStore, WebhookPages),
 * one contract run on both adapter sets: conditional create and status changes, the list's order
 * and cursors, the email window, the owner address's single-use token.
 */
import { EMAIL_WINDOW_MS, MAX_UNSENT_CHANGES } from '../../shared/domain/notifications.ts';
import type { StatusChange, Webhook } from '../../shared/domain/webhooks.ts';
import { ValidationError } from '../../shared/errors.ts';
import type { ListPage } from '../../shared/usecases/manage-webhooks.ts';
import { rejection } from '../support/rejection.ts';
import { T0, webhook } from '../unit/usecases/fakes.ts';
import { ADAPTER_SETS, uid, useBackend, type MakeAdapters } from './adapter-sets.ts';

const at = (ms: number) => new Date(T0.getTime() + ms);
const change = (ms: number, status: StatusChange['status'] = 'failing'): StatusChange => ({ status, at: at(ms).toISOString() });
const windowStart = (now: Date) => new Date(now.getTime() - EMAIL_WINDOW_MS);
const forged = (payload: unknown) => Buffer.from(JSON.stringify(payload)).toString('base64url');

export function describeWebhookContract(name: string, makeAdapters: MakeAdapters): void {
  describe(`webhooks contract: ${name}`, () => {
    const backend = useBackend(makeAdapters);
    const store = () => backend().adapters.webhooks;
    const create = async (overrides: Partial<Webhook> = {}) => {
      const w = webhook({ tenant_id: uid('ten'), id: uid('wh'), ...overrides });
      await store().create(w);
      return w;
    };

    it('create is conditional: a second create of the same id is refused and changes nothing', async () => {
      const w = await create();
      await expect(store().get(w.tenant_id, w.id)).resolves.toEqual(w);
      await expect(rejection(store().create({ ...w, url: 'https://evil.example.com/' }))).resolves.toHaveProperty('name', 'StoreError');
      await expect(store().get(w.tenant_id, w.id, true)).resolves.toEqual(w);
      await expect(store().get(uid('ten'), w.id)).resolves.toBeUndefined();
    });

    it('update sets fields and removes others, never the keys; a missing webhook is undefined; delete is true once', async () => {
      const w = await create({ description: 'old', owner_email_token_hash: 'ab' });
      const { owner_email_token_hash: _removed, ...kept } = w;
      const expected = { ...kept, url: 'https://new.example.com/hook', active: false };
      const updated = await store().update(w.tenant_id, w.id, { url: expected.url, active: false, description: undefined, id: 'x', tenant_id: 'y' }, ['owner_email_token_hash']);
      expect(updated).toEqual(expected);
      await expect(store().get(w.tenant_id, w.id)).resolves.toEqual(expected);
      await expect(store().update(w.tenant_id, w.id, {})).resolves.toEqual(expected);
      const missing = uid('wh');
      await expect(store().update(w.tenant_id, missing, { url: 'https://x.example.com/' })).resolves.toBeUndefined();
      await expect(store().get(w.tenant_id, missing)).resolves.toBeUndefined();
      await expect(store().delete(w.tenant_id, w.id)).resolves.toBe(true);
      await expect(store().delete(w.tenant_id, w.id)).resolves.toBe(false);
      await expect(store().get(w.tenant_id, w.id)).resolves.toBeUndefined();
    });

    it('a status change happens once among concurrent callers, and again only for its own cause', async () => {
      const w = await create();
      const changes = await Promise.all(['dlv_A', 'dlv_B', 'dlv_C'].map((cause) => store().transitionStatus(w.tenant_id, w.id, ['healthy'], 'failing', at(0), cause)));
      const made = changes.filter((c) => c !== undefined);
      expect(made).toHaveLength(1);
      const cause = made[0]!.status_cause!;
      expect(made[0]).toMatchObject({ status: 'failing', status_changed_at: at(0).toISOString(), updated_at: at(0).toISOString() });
      await expect(store().transitionStatus(w.tenant_id, w.id, ['healthy'], 'failing', at(1), cause)).resolves.toMatchObject({ status: 'failing' });
      await expect(store().transitionStatus(w.tenant_id, w.id, ['healthy'], 'failing', at(1), 'dlv_other')).resolves.toBeUndefined();
      await expect(store().transitionStatus(w.tenant_id, uid('wh'), ['healthy'], 'failing', at(1), cause)).resolves.toBeUndefined();
    });

    it('list pages a tenant’s webhooks in id order, by number, with hasMore, and only that tenant’s', async () => {
      const tenant = uid('ten');
      const ids = ['01A', '01B', '01C', '01D', '01E'].map((s) => `wh_${s}`);
      for (const id of [...ids].reverse()) await store().create(webhook({ tenant_id: tenant, id }));
      for (const id of ['wh_00Z', 'wh_01AA', 'wh_01F']) await store().create(webhook({ tenant_id: `${tenant}0`, id }));

      const pages = await Promise.all([1, 2, 3, 4].map((page) => store().list(tenant, { page, perPage: 2 })));
      expect(pages.map((p) => p.items.map((w) => w.id))).toEqual([ids.slice(0, 2), ids.slice(2, 4), ids.slice(4), []]);
      expect(pages.map((p) => [p.page, p.hasMore])).toEqual([[1, true], [2, true], [3, false], [4, false]]);
      expect(pages[0]!.items[0]).toEqual(webhook({ tenant_id: tenant, id: 'wh_01A' }));
      await expect(store().list(tenant, { page: 1, perPage: 5 })).resolves.toMatchObject({ hasMore: false });
      await expect(store().list(uid('ten'), { page: 1, perPage: 2 })).resolves.toEqual({ items: [], page: 1, hasMore: false });
    });

    it('list walks with cursors: each webhook once, numbered pages, the same cursor as by number', async () => {
      const tenant = uid('ten');
      const ids = Array.from({ length: 7 }, (_, i) => `wh_02${String.fromCharCode(65 + i)}`);
      for (const id of [...ids].reverse()) await store().create(webhook({ tenant_id: tenant, id }));
      const pages: ListPage<Webhook>[] = [await store().list(tenant, { page: 1, perPage: 3 })];
      while (pages.at(-1)!.nextCursor !== undefined && pages.length < 10) pages.push(await store().list(tenant, { page: 1, perPage: 3, cursor: pages.at(-1)!.nextCursor }));
      expect(pages.map((p) => p.items.map((w) => w.id))).toEqual([ids.slice(0, 3), ids.slice(3, 6), ids.slice(6)]);
      expect(pages.map((p) => [p.page, p.hasMore])).toEqual([[1, true], [2, true], [3, false]]);
      expect((await store().list(tenant, { page: 2, perPage: 3 })).nextCursor).toBe(pages[1]!.nextCursor);
    });

    it('list refuses with a 400 a cursor of another tenant, a forged one outside the tenant, and garbage; accepts its own shape', async () => {
      const [tenant, other] = [uid('ten'), uid('ten')];
      for (const id of ['wh_03A', 'wh_03B']) {
        await store().create(webhook({ tenant_id: tenant, id }));
        await store().create(webhook({ tenant_id: other, id }));
      }
      const refused = [
        (await store().list(other, { page: 1, perPage: 1 })).nextCursor!,
        'garbage',
        forged({ v: 1, of: `webhooks/${tenant}`, p: 2, k: { tenant_id: other, webhook_id: 'wh_03A' } }),
        forged({ v: 1, of: `webhooks/${tenant}`, p: 2, k: { tenant_id: tenant, webhook_id: 'wh_03A', extra: 'x' } }),
        forged({ v: 1, of: `webhooks/${tenant}`, p: 0, k: { tenant_id: tenant, webhook_id: 'wh_03A' } }),
        forged({ v: 2, of: `webhooks/${tenant}`, p: 2, k: { tenant_id: tenant, webhook_id: 'wh_03A' } }),
        forged([1, 2]),
      ];
      for (const cursor of refused) {
        const err = await rejection(store().list(tenant, { page: 1, perPage: 1, cursor }));
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as ValidationError).statusCode).toBe(400);
      }
      const own = forged({ v: 1, of: `webhooks/${tenant}`, p: 2, k: { tenant_id: tenant, webhook_id: 'wh_03A' } });
      expect((await store().list(tenant, { page: 1, perPage: 5, cursor: own })).items.map((w) => w.id)).toEqual(['wh_03B']);
    });

    it('pages() yields every webhook of a tenant once, in id order, and none of its neighbours', async () => {
      const tenant = uid('ten');
      const ids = Array.from({ length: 30 }, (_, i) => `wh_${String(i).padStart(3, '0')}`);
      await Promise.all(ids.map((id) => store().create(webhook({ tenant_id: tenant, id }))));
      await store().create(webhook({ tenant_id: `${tenant}0`, id: 'wh_other_1' }));
      await store().create(webhook({ tenant_id: tenant.slice(0, -1), id: 'wh_other_2' }));
      const seen: Webhook[] = [];
      for await (const page of store().pages(tenant)) seen.push(...page);
      expect(seen.map((w) => w.id)).toEqual(ids);
      const none: Webhook[] = [];
      for await (const page of store().pages(uid('ten'))) none.push(...page);
      expect(none).toEqual([]);
    });

    it('of 10 concurrent email claims on a fresh window one sends; later changes are held (bounded) and handed to the first claim after the hour', async () => {
      const w = await create();
      const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => store().claimEmail(w.tenant_id, w.id, change(i), at(0), windowStart(at(0)))));
      expect(claims.filter((c) => c.kind === 'send')).toEqual([{ kind: 'send', unsent: [], unsentCount: 0 }]);
      for (let i = 1; i <= MAX_UNSENT_CHANGES; i++) {
        expect(await store().claimEmail(w.tenant_id, w.id, change(i * 60_000), at(i * 60_000), windowStart(at(i * 60_000)))).toEqual({ kind: 'held' });
      }
      const afterHour = at(EMAIL_WINDOW_MS);
      const claim = await store().claimEmail(w.tenant_id, w.id, change(EMAIL_WINDOW_MS), afterHour, windowStart(afterHour));
      expect(claim.kind).toBe('send');
      expect(claim).toMatchObject({ unsentCount: 9 + MAX_UNSENT_CHANGES });
      expect(claim.kind === 'send' ? claim.unsent : []).toHaveLength(MAX_UNSENT_CHANGES);
      const row = await store().get(w.tenant_id, w.id);
      expect(row).toMatchObject({ last_email_at: afterHour.toISOString() });
      expect(row).not.toHaveProperty('unsent_changes');
      expect(row).not.toHaveProperty('unsent_count');
    });

    it("a disabled change has a window of its own: emailed within the hour of a failing email, then held like the rest", async () => {
      const w = await create();
      expect(await store().claimEmail(w.tenant_id, w.id, change(0), at(0), windowStart(at(0)))).toEqual({ kind: 'send', unsent: [], unsentCount: 0 });
      // A 410 ten minutes later: disabled is final, so no later email would tell the owner.
      expect(await store().claimEmail(w.tenant_id, w.id, change(600_000, 'disabled'), at(600_000), windowStart(at(600_000)))).toEqual({ kind: 'send', unsent: [], unsentCount: 0 });
      // Re-activated and gone again within the hour: held, as a failing change would be.
      expect(await store().claimEmail(w.tenant_id, w.id, change(700_000, 'disabled'), at(700_000), windowStart(at(700_000)))).toEqual({ kind: 'held' });
      expect(await store().claimEmail(w.tenant_id, w.id, change(800_000), at(800_000), windowStart(at(800_000)))).toEqual({ kind: 'held' });
      expect(await store().get(w.tenant_id, w.id)).toMatchObject({ last_email_at: at(0).toISOString(), last_disabled_email_at: at(600_000).toISOString(), unsent_count: 2 });
    });

    it('keepUnsent records changes whatever the window; a deleted webhook claims nothing', async () => {
      const w = await create();
      await store().keepUnsent(w.tenant_id, w.id, [change(1), change(2, 'failing')], 2);
      await expect(store().claimEmail(w.tenant_id, w.id, change(3), at(3), windowStart(at(3)))).resolves.toEqual({ kind: 'send', unsent: [change(1), change(2, 'failing')], unsentCount: 2 });
      await store().delete(w.tenant_id, w.id);
      const later = at(2 * EMAIL_WINDOW_MS);
      await expect(store().claimEmail(w.tenant_id, w.id, change(4), later, windowStart(later))).resolves.toEqual({ kind: 'held' });
      await expect(store().get(w.tenant_id, w.id)).resolves.toBeUndefined();
    });

    it('confirmOwnerEmail verifies once, with the right hash, before the token expires, and removes the token', async () => {
      const w = await create({ owner_email_verified: false, owner_email_token_hash: 'ab'.repeat(32), owner_email_token_expires_at: at(1000).toISOString() });
      await expect(store().confirmOwnerEmail(w.tenant_id, w.id, 'cd'.repeat(32), at(0))).resolves.toBeUndefined();
      await expect(store().confirmOwnerEmail(w.tenant_id, w.id, 'ab'.repeat(32), at(1000))).resolves.toBeUndefined();
      expect((await store().get(w.tenant_id, w.id))!.owner_email_verified).toBe(false);
      const confirmed = await store().confirmOwnerEmail(w.tenant_id, w.id, 'ab'.repeat(32), at(999));
      expect(confirmed).toMatchObject({ id: w.id, owner_email_verified: true, updated_at: at(999).toISOString() });
      expect(confirmed).not.toHaveProperty('owner_email_token_hash');
      expect(confirmed).not.toHaveProperty('owner_email_token_expires_at');
      await expect(store().confirmOwnerEmail(w.tenant_id, w.id, 'ab'.repeat(32), at(0))).resolves.toBeUndefined();
    });
  });
}

for (const [name, make] of ADAPTER_SETS) describeWebhookContract(name, make);
