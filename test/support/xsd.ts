import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XmlDocument, XmlParseError, XsdValidator } from 'libxml2-wasm';
import { xmlRegisterFsInputProviders } from 'libxml2-wasm/lib/nodejs.mjs';
import { SCHEMAS } from './nfce.ts';

/**
 * The official XSD in process: libxml2 compiled to WebAssembly (the npm package libxml2-wasm), so
 * thousands of documents validate in a second and nothing needs xmllint installed. Parsing is
 * libxml2's own, so a document that is not well-formed XML 1.0 (a control character, say) fails
 * as it would with xmllint. The schema's includes and imports (tiposBasico, xmldsig-core-schema)
 * are read from disk next to it.
 */

xmlRegisterFsInputProviders();

/** Why the schemas cannot be used here, or undefined when they can. */
export function schemasMissing(): string | undefined {
  return existsSync(SCHEMAS) ? undefined : `${SCHEMAS} is absent`;
}

function parse(xml: string): XmlDocument | string[] {
  try {
    return XmlDocument.fromString(xml);
  } catch (error) {
    if (error instanceof XmlParseError) return error.details.map((d) => `line ${d.line}:${d.col}: ${d.message.trim()}`);
    throw error;
  }
}

/**
 * Why `xml` is not well-formed XML 1.0, empty when it is (no schema needed). The string is handed
 * over as UTF-8, where a lone surrogate would already have become U+FFFD: look for those apart.
 */
export function parseErrors(xml: string): string[] {
  const doc = parse(xml);
  if (Array.isArray(doc)) return doc;
  doc.dispose();
  return [];
}

export interface XsdChecker {
  /** Well-formedness, then the schema: empty when the document validates. */
  failures(xml: string): string[];
  dispose(): void;
}

/** A validator for one of PL_009_V4's schemas (`nfe_v4.00.xsd` by default), compiled once. */
export function xsdChecker(schema = 'nfe_v4.00.xsd'): XsdChecker {
  const file = join(SCHEMAS, schema);
  const schemaDoc = XmlDocument.fromBuffer(readFileSync(file), { url: file });
  const validator = XsdValidator.fromDoc(schemaDoc);
  return {
    failures(xml) {
      const doc = parse(xml);
      if (Array.isArray(doc)) return doc;
      try {
        validator.validate(doc);
        return [];
      } catch (error) {
        const details = (error as { details?: { message: string }[] }).details;
        return details ? details.map((d) => d.message.trim()) : [String(error)];
      } finally {
        doc.dispose();
      }
    },
    dispose() {
      validator.dispose();
      schemaDoc.dispose();
    },
  };
}
