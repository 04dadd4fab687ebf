// Access tokens: short-lived HS256 JWTs (jose), algorithm pinned, issuer/audience/expiry checked.
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { OutpostError, isUuid, type DeviceId, type UserId } from '@outpost/shared-schema';

export interface AccessClaims {
  userId: UserId;
  /** The session (refresh-token family) doubles as the device id. */
  deviceId: DeviceId;
}

export interface TokenSigner {
  sign(claims: AccessClaims): Promise<string>;
  verify(token: string): Promise<AccessClaims>;
  readonly ttlSeconds: number;
}

const ALG = 'HS256';
const CLOCK_TOLERANCE_SECONDS = 5;

export function createTokenSigner(secret: Uint8Array, options: { issuer: string; audience: string; ttlSeconds: number }): TokenSigner {
  // Imported once: given the raw bytes, jose imports a CryptoKey on every call (~9 KB of garbage
  // per verification, three per connecting client).
  const imported = crypto.subtle.importKey('raw', new Uint8Array(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
  return {
    ttlSeconds: options.ttlSeconds,
    async sign({ userId, deviceId }) {
      return new SignJWT({ did: deviceId })
        .setProtectedHeader({ alg: ALG, typ: 'JWT' })
        .setSubject(userId)
        .setIssuer(options.issuer)
        .setAudience(options.audience)
        .setIssuedAt()
        .setNotBefore('0s')
        .setExpirationTime(`${options.ttlSeconds}s`)
        .sign(await imported);
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, await imported, {
          algorithms: [ALG],
          issuer: options.issuer,
          audience: options.audience,
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          requiredClaims: ['sub', 'exp', 'nbf', 'iat'],
        });
        if (!isUuid(payload.sub) || !isUuid(payload.did)) throw new OutpostError('unauthorized', 'token has malformed claims');
        return { userId: payload.sub as UserId, deviceId: payload.did as DeviceId };
      } catch (error) {
        if (error instanceof OutpostError) throw error;
        if (error instanceof joseErrors.JWTExpired) throw new OutpostError('unauthorized', 'access token expired; refresh it');
        if (error instanceof joseErrors.JOSEError) throw new OutpostError('unauthorized', `access token refused (${error.code})`);
        throw error;
      }
    },
  };
}
