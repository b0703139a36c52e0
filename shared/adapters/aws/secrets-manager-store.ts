import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { errorName, SecretStoreError } from './errors.ts';
import type { SecretStore } from '../../usecases/ports.ts';
import type { AwsAdapter, AwsCall, AwsCalls, SecretScope } from './aws-calls.ts';

/**
 * Secrets Manager behind the SecretStore port: one secret per name, created on first put. `scope`
 * says which secrets the names are (the tenants' webhook credentials, or the admin key): it is what
 * a function handed this store is granted.
 */
export class SecretsManagerStore implements SecretStore, AwsAdapter {
  readonly awsCalls: AwsCalls<SecretsManagerStore>;
  private readonly client: SecretsManagerClient;
  constructor(client: SecretsManagerClient, scope: SecretScope) {
    this.client = client;
    const calls = (...actions: string[]): AwsCall[] => [{ actions: actions.map((a) => `secretsmanager:${a}`), on: { kind: 'secrets', scope } }];
    this.awsCalls = {
      get: calls('GetSecretValue'),
      // A new name is created when writing to it finds nothing.
      put: calls('PutSecretValue', 'CreateSecret'),
      delete: calls('DeleteSecret'),
    };
  }

  async get(name: string): Promise<string | undefined> {
    try {
      const out = await this.client.send(new GetSecretValueCommand({ SecretId: name }));
      return out.SecretString;
    } catch (err) {
      if (errorName(err) === 'ResourceNotFoundException') return undefined;
      throw new SecretStoreError(`could not read secret ${name}`, { cause: err });
    }
  }

  async put(name: string, value: string): Promise<void> {
    try {
      await this.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));
      return;
    } catch (err) {
      if (errorName(err) !== 'ResourceNotFoundException') {
        throw new SecretStoreError(`could not write secret ${name}`, { cause: err });
      }
    }
    try {
      await this.client.send(new CreateSecretCommand({ Name: name, SecretString: value }));
    } catch (err) {
      if (errorName(err) !== 'ResourceExistsException') throw new SecretStoreError(`could not create secret ${name}`, { cause: err });
      // Someone created it between our two calls: write the value as a new version.
      try {
        await this.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));
      } catch (retryErr) {
        throw new SecretStoreError(`could not write secret ${name}`, { cause: retryErr });
      }
    }
  }

  async delete(name: string): Promise<void> {
    try {
      await this.client.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
    } catch (err) {
      if (errorName(err) === 'ResourceNotFoundException') return;
      throw new SecretStoreError(`could not delete secret ${name}`, { cause: err });
    }
  }
}
