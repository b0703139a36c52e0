/** What a webhook is, as stored. Credentials are not here: they live in the secret store. */
export const WEBHOOK_FORMATS = ['standard', 'wrapped', 'subject_body', 'data', 'cloudevents'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

export const AUTH_TYPES = ['none', 'bearer', 'basic', 'header', 'oauth2'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

export type WebhookStatus = 'healthy' | 'failing' | 'disabled';

/** How the receiver authenticates Hookline, besides the signature. Secret material: never returned. */
export type ReceiverAuth =
  | { readonly type: 'none' }
  | { readonly type: 'bearer'; readonly token: string }
  | { readonly type: 'basic'; readonly username: string; readonly password: string }
  | { readonly type: 'header'; readonly name: string; readonly value: string }
  | {
      readonly type: 'oauth2';
      readonly token_url: string;
      readonly client_id: string;
      readonly client_secret: string;
      readonly scope?: string;
    };

export interface Webhook {
  readonly tenant_id: string;
  readonly id: string;
  readonly url: string;
  readonly events: readonly string[];
  readonly active: boolean;
  readonly status: WebhookStatus;
  readonly description: string;
  readonly format: WebhookFormat;
  readonly auth_type: AuthType;
  readonly owner_email: string;
  /** Whether deliveries are signed (a webhook created without a secret gets a generated one). */
  readonly has_secret: boolean;
  /** Bumped whenever the credentials change, so a cached copy of older credentials is never used. */
  readonly credentials_version: number;
  readonly created_at: string;
  readonly updated_at: string;
}

/** Secret material of one webhook, kept in the secret store under the webhook's name. */
export interface WebhookCredentials {
  /** Active signing secrets, newest first. */
  readonly signing_secrets: readonly string[];
  readonly auth: ReceiverAuth;
}

/** A webhook receives events only while it is active and not disabled. */
export const isReceiving = (w: Pick<Webhook, 'active' | 'status'>): boolean => w.active && w.status !== 'disabled';

/** The webhook as the API shows it: no credentials, only the auth type. */
export function webhookView(w: Webhook) {
  return {
    id: w.id,
    url: w.url,
    events: w.events,
    active: w.active,
    status: w.status,
    description: w.description,
    format: w.format,
    auth: { type: w.auth_type },
    owner_email: w.owner_email,
    created_at: w.created_at,
    updated_at: w.updated_at,
  };
}
export type WebhookView = ReturnType<typeof webhookView>;

/** Headers that authenticate Hookline to the receiver, for the auth types that are plain headers. */
export function authHeaders(auth: ReceiverAuth): Record<string, string> {
  switch (auth.type) {
    case 'none':
    case 'oauth2':
      return {};
    case 'bearer':
      return { authorization: `Bearer ${auth.token}` };
    case 'basic':
      return { authorization: 'Basic ' + Buffer.from(`${auth.username}:${auth.password}`).toString('base64') };
    case 'header':
      return { [auth.name.toLowerCase()]: auth.value };
  }
}
