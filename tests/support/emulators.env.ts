// Points the AWS SDK of the code under test at the emulators through the standard variables only.
import { inject } from 'vitest';
import { emulatorEnvironment } from '../../src/local/emulators.ts';

Object.assign(process.env, emulatorEnvironment(inject('emulatorEndpoints')));
