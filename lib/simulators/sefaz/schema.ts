import { readFileSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { XmlDocument, XmlParseError, XsdValidator, xmlRegisterInputProvider, type ErrorDetail } from 'libxml2-wasm';
import { fsInputProviders } from 'libxml2-wasm/lib/nodejs.mjs';

/**
 * The official XSDs in process: libxml2 compiled to WebAssembly (the npm package libxml2-wasm),
 * the library that implements the XSD patterns SEFAZ relies on (e.g. the qrCode and TString
 * regular expressions), so nothing needs xmllint installed. Parsing is libxml2's own: a document
 * that is not well-formed XML 1.0 (a control character, say) fails as it would at SEFAZ.
 *
 * Each schema file is compiled once per process, on first use, and kept; each document is parsed,
 * validated and freed within one synchronous call, so concurrent requests never share a document
 * or an error list.
 */

/** Folders whose files a schema may include or import (tiposBasico, xmldsig-core-schema). */
const schemaDirs = new Set<string>();
const within = (filename: string) => {
  const path = filename.startsWith('file:') ? new URL(filename).pathname : filename;
  return [...schemaDirs].some((dir) => path.startsWith(dir + sep));
};
// libxml2 reads a schema's includes and imports through this provider; it opens no other file.
xmlRegisterInputProvider({ ...fsInputProviders, match: (filename) => within(filename) && fsInputProviders.match(filename) });

export interface SchemaValidator {
  /** Well-formedness, then the schema: empty when `xml` validates, else libxml2's complaints. */
  failures(xml: string): string[];
}

const describe = (details: ErrorDetail[]) => details.map((d) => `line ${d.line}: ${d.message.trim()}`);

function parse(xml: string): XmlDocument | string[] {
  try {
    return XmlDocument.fromString(xml);
  } catch (error) {
    if (error instanceof XmlParseError) return describe(error.details);
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

function compile(file: string): SchemaValidator {
  // The schema document stays alive with the compiled schema, which points into it.
  const schemaDoc = XmlDocument.fromBuffer(readFileSync(file), { url: file });
  let validator: XsdValidator;
  try {
    validator = XsdValidator.fromDoc(schemaDoc);
  } catch (error) {
    schemaDoc.dispose();
    const details = (error as { details?: ErrorDetail[] }).details;
    throw new Error(`${file} does not compile: ${details ? describe(details).join('; ') : String(error)}`, { cause: error });
  }
  return {
    failures(xml) {
      const doc = parse(xml);
      if (Array.isArray(doc)) return doc;
      try {
        validator.validate(doc);
        return [];
      } catch (error) {
        const details = (error as { details?: ErrorDetail[] }).details;
        if (!details) throw error;
        return describe(details);
      } finally {
        doc.dispose();
      }
    },
  };
}

const compiled = new Map<string, SchemaValidator>();

/** The validator of `schemasDir/schema` (e.g. PL_010e_v1.01 and enviNFe_v4.00.xsd), compiled once per process. */
export function schemaValidator(schemasDir: string, schema: string): SchemaValidator {
  const file = resolve(schemasDir, schema);
  let validator = compiled.get(file);
  if (!validator) {
    schemaDirs.add(resolve(schemasDir));
    validator = compile(file);
    compiled.set(file, validator);
  }
  return validator;
}

/** The simulator's check: undefined when `xml` validates against `schema`, or libxml2's complaint. */
export function schemaErrors(schemasDir: string, schema: string, xml: string): string | undefined {
  const failures = schemaValidator(schemasDir, schema).failures(xml);
  return failures.length > 0 ? failures.join('\n') : undefined;
}
