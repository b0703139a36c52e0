import { bundledCatalogue } from '../../shared/compose/catalogue.ts';
import { lazyHandler } from '../../shared/compose/function-base.ts';
import { ingestAws } from './aws.ts';
import { composeIngest } from './compose.ts';

/** Lambda's entry: the catalogue's schemas come compiled with the bundle (infra/stack/build-assets.ts). */
export const handler = lazyHandler(async () => composeIngest({ awsKit: ingestAws, catalogue: await bundledCatalogue(process.env) }).handler);
