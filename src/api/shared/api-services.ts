import type { CommandServices } from '../../commands/command-states';
import type { SessionGuard } from './auth/session-guard';
import type { TokenService } from './auth/token-service';

/** What an API process holds: the opened adapters and the authentication built on them. */
export interface ApiServices extends CommandServices {
  tokens: TokenService;
  /** Every signed-in request: the token's user exists and its session is active. */
  sessions: SessionGuard;
}
