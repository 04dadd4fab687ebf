// How a password reset reaches its user. Outpost has no e-mail service of its own: the default
// mailer delivers nothing, and the administrator who issued the code hands it over. A deployment
// with e-mail plugs in a Mailer that sends it (users would then need an address on file).
import type { UserRecord } from '@outpost/storage';

export interface PasswordResetMessage {
  user: UserRecord;
  /** The one-time code, and the web app's link that carries it. */
  code: string;
  link: string;
  expiresAt: number;
}

export interface Mailer {
  /**
   * Delivers a reset code to the user; true when it did (the administrator then never sees the
   * code), false when it cannot (the administrator is shown the code to hand over).
   */
  sendPasswordReset(message: PasswordResetMessage): Promise<boolean>;
}

/** The default: no e-mail; the administrator is shown the code. */
export const showToAdministrator: Mailer = {
  async sendPasswordReset() {
    return false;
  },
};
