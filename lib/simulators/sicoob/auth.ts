import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { OAuthError, SICOOB_CODES, SicoobError } from './errors.ts';

/** A client the API recognised from its token and headers. */
export interface Client {
  clientId: string;
  numeroCliente: number;
}

/** The token endpoint's 200 answer (Keycloak's shape, spec §0). */
export interface TokenAnswer {
  access_token: string;
  expires_in: number;
  refresh_expires_in: 0;
  token_type: 'Bearer';
  'not-before-policy': 0;
  scope: string;
}

/**
 * Sicoob's authentication: client_credentials tokens for the known client_ids (no secret: mutual
 * TLS authenticates the client), valid `ttlSeconds` on the simulator's clock. The scope list is
 * taken as it comes and echoed; no endpoint checks it, since which scope guards the movement
 * endpoints is Unknown (spec §0). Tokens are opaque random strings (Sicoob's are JWTs nobody
 * should read).
 */
export class Credentials {
  private readonly clients = new Map<string, number>();
  private readonly tokens = new Map<string, { clientId: string; expiresAt: number }>();
  private issued = 0;

  constructor(
    private readonly now: () => number,
    private readonly ttlSeconds: number,
  ) {}

  addClient(clientId: string, numeroCliente: number): void {
    if (typeof clientId !== 'string' || clientId === '') throw new Error('clientId must be a non-empty string');
    if (!Number.isSafeInteger(numeroCliente) || numeroCliente < 1)
      throw new Error(`numeroCliente must be an integer ≥ 1, not ${numeroCliente}`);
    if (this.clients.has(clientId)) throw new Error(`client ${clientId} exists`);
    this.clients.set(clientId, numeroCliente);
  }

  tokensIssued(): number {
    return this.issued;
  }

  /** The token endpoint: a form `grant_type=client_credentials&client_id=…&scope=…`, all three required. */
  issue(form: string): TokenAnswer {
    const params = new URLSearchParams(form);
    const [grantType, clientId, scope] = ['grant_type', 'client_id', 'scope'].map((name) => params.get(name) ?? '');
    if (!grantType || !clientId || !scope) throw new OAuthError(400, 'invalid_request');
    if (grantType !== 'client_credentials') throw new OAuthError(400, 'unsupported_grant_type');
    if (!this.clients.has(clientId)) throw new OAuthError(401, 'invalid_client');
    const token = randomBytes(32).toString('base64url');
    this.tokens.set(token, { clientId, expiresAt: this.now() + this.ttlSeconds * 1000 });
    this.issued++;
    return {
      access_token: token,
      expires_in: this.ttlSeconds,
      refresh_expires_in: 0,
      token_type: 'Bearer',
      'not-before-policy': 0,
      scope,
    };
  }

  /** The client of an API call: a valid unexpired bearer token (else 401) whose client the `client_id` header names (else 403). */
  authorize(headers: IncomingHttpHeaders): Client {
    const token = /^Bearer +(\S+)$/i.exec(headers.authorization ?? '')?.[1];
    const grant = token === undefined ? undefined : this.tokens.get(token);
    if (!grant || grant.expiresAt <= this.now())
      throw new SicoobError(401, SICOOB_CODES.UNAUTHORIZED, 'Token de acesso ausente, inválido ou expirado.');
    if (headers.client_id !== grant.clientId)
      throw new SicoobError(403, SICOOB_CODES.FORBIDDEN, 'O client_id informado não corresponde ao token de acesso.');
    return { clientId: grant.clientId, numeroCliente: this.clients.get(grant.clientId)! };
  }
}

/** 403 unless `numeroCliente` is the client's own. */
export function ownNumeroCliente(client: Client, numeroCliente: number): void {
  if (numeroCliente !== client.numeroCliente)
    throw new SicoobError(403, SICOOB_CODES.FORBIDDEN, `O numeroCliente ${numeroCliente} não pertence ao client_id informado.`);
}
