import { eventQueue, eventStore, requestWindows, tenantRecords } from '../../shared/adapters/aws/kit.ts';
import type { AwsKit } from '../../shared/compose/aws-kit.ts';

/** The AWS adapters of ingest's root: the events table and queue, keys and request limits (handler.ts gives them). */
export const ingestAws = { eventQueue, eventStore, requestWindows, tenantRecords } satisfies AwsKit;
