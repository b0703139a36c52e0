import { lazyHandler } from '../../shared/compose/function-base.ts';
import { adminApiAws } from './aws.ts';
import { composeAdminApi } from './compose.ts';

export const handler = lazyHandler(() => composeAdminApi({ awsKit: adminApiAws }).handler);
