// FC handler of the onboarding-worker function (invoked asynchronously by the api and by
// itself): plans an onboarding run, or onboards one chunk of its members.
import { defineFunction } from '../../shared/runtime/function';
import { onboardingWorkerFunction } from '../../shared/wiring/onboarding-worker';

export const handler = defineFunction(onboardingWorkerFunction);
