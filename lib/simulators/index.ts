import { startCaratSimulator, type CaratControl, type CaratSimulatorOptions } from './carat/index.ts';
import { startCieloSimulator, type CieloControl, type CieloSimulatorOptions } from './cielo/index.ts';
import { startSicoobSimulator, type SicoobControl, type SicoobSimulatorOptions } from './sicoob/index.ts';
import { startSefazSimulator, type SefazControl, type SefazSimulatorOptions } from './sefaz/index.ts';

/**
 * Partner simulators: each speaks its partner's real wire format on 127.0.0.1, so the backend's
 * real clients are exercised locally. One folder per partner under lib/simulators/; the local
 * runtime starts each through this one interface, unless the partner's `*_URL` variable points the
 * backend at the real partner (a sandbox) instead.
 */
export interface Simulator<Control> {
  /** Base URL the backend's client is given. */
  url: string;
  /** Test and demo knobs: slow, failing, down… */
  control: Control;
  close(): Promise<void>;
}

export interface Partner<Options, Control> {
  /** What people call it. */
  name: string;
  /** The environment variable holding the partner's real base URL; set, no simulator starts. */
  urlVariable: string;
  start(options: Options): Promise<Simulator<Control>>;
}

/** SEFAZ-SP's NFC-e web services; `SEFAZ_URL` is the base of its `/ws/<Service>4.asmx` services. */
export const sefaz: Partner<SefazSimulatorOptions, SefazControl> = {
  name: 'SEFAZ-SP (NFC-e)',
  urlVariable: 'SEFAZ_URL',
  start: startSefazSimulator,
};

/**
 * Cielo LIO's Order Manager API (and the notifier that POSTs to the registered webhook);
 * `CIELO_API_URL` is the API base such as `https://api.cielo.com.br/sandbox-lio/order-management/v1`.
 */
export const cielo: Partner<CieloSimulatorOptions, CieloControl> = {
  name: 'Cielo LIO Order Manager',
  urlVariable: 'CIELO_API_URL',
  start: startCieloSimulator,
};

/**
 * Carat e-SiTef's recharge REST API (and the authenticity POST it makes during begin);
 * `CARAT_API_URL` is the base such as `https://esitef-homologacao.softwareexpress.com.br/e-sitef`.
 */
export const carat: Partner<CaratSimulatorOptions, CaratControl> = {
  name: 'Carat e-SiTef (recharge)',
  urlVariable: 'CARAT_API_URL',
  start: startCaratSimulator,
};

/**
 * Sicoob's Cobrança Bancária v3 API and its token endpoint (two URLs: `SICOOB_API_URL`, the API
 * base such as `https://api.sicoob.com.br/cobranca-bancaria/v3`, and `SICOOB_AUTH_URL`, the token
 * URL, production's when unset); its simulator (a SicoobSimulator, with its `authUrl`) also
 * delivers the payment webhook.
 */
export const sicoob: Partner<SicoobSimulatorOptions, SicoobControl> = {
  name: 'Sicoob Cobrança Bancária v3',
  urlVariable: 'SICOOB_API_URL',
  start: startSicoobSimulator,
};

/**
 * A partner's base URL for this run: the one its `*_URL` variable names, or a simulator's, started
 * here (then returned too, so the caller can steer and close it).
 */
export async function startPartner<Options, Control>(
  partner: Partner<Options, Control>,
  options: Options,
  env: Record<string, string | undefined> = process.env,
): Promise<{ url: string; simulator?: Simulator<Control> }> {
  const external = env[partner.urlVariable]?.trim();
  if (external) return { url: external.replace(/\/+$/, '') };
  const simulator = await partner.start(options);
  return { url: simulator.url, simulator };
}
