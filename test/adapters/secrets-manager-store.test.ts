import {
  ResourceExistsException,
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  InternalServiceError,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { SecretsManagerStore } from '../../shared/adapters/aws/secrets-manager-store.ts';
import { SecretStoreError } from '../../shared/adapters/aws/errors.ts';
import { rejection } from '../support/rejection.ts';

const sm = mockClient(SecretsManagerClient);
const notFound = () => new ResourceNotFoundException({ message: 'Secrets Manager can’t find the specified secret.', $metadata: {} });
const internal = () => new InternalServiceError({ message: 'boom', $metadata: {} });

let store: SecretsManagerStore;
beforeEach(() => {
  sm.reset();
  store = new SecretsManagerStore(new SecretsManagerClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }), 'webhook-secrets');
});

afterAll(() => sm.restore());

describe('SecretsManagerStore.get', () => {
  it('returns the SecretString of GetSecretValue for the name', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: '{"signing_secrets":["whsec_a"]}' });
    await expect(store.get('hookline/webhooks/t1/w1')).resolves.toBe('{"signing_secrets":["whsec_a"]}');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(sm.commandCalls(GetSecretValueCommand)[0]!.args[0].input).toEqual({ SecretId: 'hookline/webhooks/t1/w1' });
  });

  it('returns undefined when the secret does not exist', async () => {
    sm.on(GetSecretValueCommand).rejects(notFound());
    await expect(store.get('missing')).resolves.toBeUndefined();
  });

  it('wraps any other failure in a SecretStoreError that keeps the SDK error as cause', async () => {
    const sdkError = internal();
    sm.on(GetSecretValueCommand).rejects(sdkError);
    const err = await rejection(store.get('name'));
    expect(err).toBeInstanceOf(SecretStoreError);
    expect(err.name).toBe('SecretStoreError');
    expect(err.cause).toBe(sdkError);
    expect(err.message).toContain('name');
  });
});

describe('SecretsManagerStore.put', () => {
  it('writes a new version with PutSecretValue and creates nothing when the secret exists', async () => {
    sm.on(PutSecretValueCommand).resolves({ VersionId: 'v2' });
    await store.put('hookline/w1', 'value-1');
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(1);
    expect(sm.commandCalls(PutSecretValueCommand)[0]!.args[0].input).toEqual({ SecretId: 'hookline/w1', SecretString: 'value-1' });
    expect(sm.commandCalls(CreateSecretCommand)).toHaveLength(0);
  });

  it('creates the secret with exactly {Name, SecretString} when PutSecretValue finds none', async () => {
    sm.on(PutSecretValueCommand).rejects(notFound());
    sm.on(CreateSecretCommand).resolves({ Name: 'hookline/w2' });
    await store.put('hookline/w2', 'value-2');
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(1);
    expect(sm.commandCalls(CreateSecretCommand)).toHaveLength(1);
    expect(sm.commandCalls(CreateSecretCommand)[0]!.args[0].input).toEqual({ Name: 'hookline/w2', SecretString: 'value-2' });
  });

  it('does not fall back to CreateSecret on other PutSecretValue errors', async () => {
    const sdkError = internal();
    sm.on(PutSecretValueCommand).rejects(sdkError);
    const err = await rejection(store.put('n', 'v'));
    expect(err).toBeInstanceOf(SecretStoreError);
    expect(err.cause).toBe(sdkError);
    expect(sm.commandCalls(CreateSecretCommand)).toHaveLength(0);
  });

  it('wraps a failing CreateSecret in a SecretStoreError with cause', async () => {
    const sdkError = internal();
    sm.on(PutSecretValueCommand).rejects(notFound());
    sm.on(CreateSecretCommand).rejects(sdkError);
    const err = await rejection(store.put('n', 'v'));
    expect(err).toBeInstanceOf(SecretStoreError);
    expect(err.cause).toBe(sdkError);
  });
});

describe('SecretsManagerStore.put racing another first put', () => {
  it('writes a new version when CreateSecret finds the secret already created', async () => {
    sm.on(PutSecretValueCommand).rejectsOnce(notFound()).resolves({});
    sm.on(CreateSecretCommand).rejects(new ResourceExistsException({ message: 'exists', $metadata: {} }));
    await store.put('hookline/race', 'v2');
    const puts = sm.commandCalls(PutSecretValueCommand);
    expect(puts).toHaveLength(2);
    expect(puts[1]!.args[0].input).toEqual({ SecretId: 'hookline/race', SecretString: 'v2' });
  });
});

describe('SecretsManagerStore.delete', () => {
  it('deletes without a recovery window', async () => {
    sm.on(DeleteSecretCommand).resolves({});
    await store.delete('hookline/w3');
    expect(sm.commandCalls(DeleteSecretCommand)).toHaveLength(1);
    expect(sm.commandCalls(DeleteSecretCommand)[0]!.args[0].input).toEqual({ SecretId: 'hookline/w3', ForceDeleteWithoutRecovery: true });
  });

  it('ignores a secret that does not exist', async () => {
    sm.on(DeleteSecretCommand).rejects(notFound());
    await expect(store.delete('gone')).resolves.toBeUndefined();
  });

  it('wraps other failures in a SecretStoreError with cause', async () => {
    const sdkError = internal();
    sm.on(DeleteSecretCommand).rejects(sdkError);
    const err = await rejection(store.delete('x'));
    expect(err).toBeInstanceOf(SecretStoreError);
    expect(err.cause).toBe(sdkError);
  });
});
