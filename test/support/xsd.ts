import { existsSync } from 'node:fs';
import { parseErrors, schemaValidator, type SchemaValidator } from '../../lib/simulators/sefaz/schema.ts';
import { SCHEMAS } from './nfce.ts';

/**
 * The official XSD in process, with the validator the SEFAZ simulator uses
 * (lib/simulators/sefaz/schema.ts: libxml2 compiled to WebAssembly, each schema compiled once per
 * process), so thousands of documents validate in a second and nothing needs xmllint installed.
 */

export { parseErrors };
export type XsdChecker = SchemaValidator;

/** Why the schemas cannot be used here, or undefined when they can. */
export function schemasMissing(): string | undefined {
  return existsSync(SCHEMAS) ? undefined : `${SCHEMAS} is absent`;
}

/** A validator for one of PL_010e_v1.01's schemas (`nfe_v4.00.xsd` by default), compiled once per process. */
export function xsdChecker(schema = 'nfe_v4.00.xsd'): XsdChecker {
  return schemaValidator(SCHEMAS, schema);
}

/** Every document against one of PL_010e_v1.01's schemas: the failures, each after its document's name (empty when all validate). */
export function xsdFailures(schema: string, documents: Record<string, string>): string[] {
  const checker = xsdChecker(schema);
  return Object.entries(documents).flatMap(([name, xml]) => checker.failures(xml).map((failure) => `${name}: ${failure}`));
}
