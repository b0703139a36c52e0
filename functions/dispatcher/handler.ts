import { lazyHandler } from '../../shared/compose/function-base.ts';
import { dispatcherAws } from './aws.ts';
import { composeDispatcher } from './compose.ts';

export const handler = lazyHandler(() => composeDispatcher({ awsKit: dispatcherAws }).handler);
