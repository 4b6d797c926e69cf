// lint-as: src-main/bridge/fixture.ts
// Allowed: the bridge may parse challenges and talk to the broker.
import { bearerParams } from '../core/oauth/challenge.js';
import { BrokerClient } from '../core/broker/client.js';
export const ok = [bearerParams, BrokerClient];
