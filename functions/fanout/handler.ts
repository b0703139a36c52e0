import { lazyHandler } from '../../shared/compose/function-base.ts';
import { fanoutAws } from './aws.ts';
import { composeFanout } from './compose.ts';

export const handler = lazyHandler(() => composeFanout({ awsKit: fanoutAws }).handler);
