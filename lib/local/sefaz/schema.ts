import { spawn } from 'node:child_process';
import { join } from 'node:path';

/**
 * Validates `xml` against one of the official schemas with xmllint (libxml2 is what implements
 * the XSD patterns SEFAZ relies on, e.g. the qrCode and TString regular expressions). Resolves to
 * undefined when valid, or to xmllint's complaint.
 */
export function schemaErrors(schemasDir: string, schema: string, xml: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const xmllint = spawn('xmllint', ['--noout', '--nonet', '--schema', join(schemasDir, schema), '-'], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    xmllint.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    xmllint.on('error', reject);
    xmllint.on('close', (code) => {
      // 0 valid, 3/4 invalid document; anything else means xmllint itself failed (e.g. no schema).
      if (code === 0) resolve(undefined);
      else if (code === 3 || code === 4) resolve(stderr.trim() || 'invalid');
      else reject(new Error(`xmllint exited with ${code}: ${stderr.trim()}`));
    });
    // xmllint may exit before reading everything (e.g. a bad schema path); that surfaces on 'close'.
    xmllint.stdin.on('error', () => undefined);
    xmllint.stdin.end(xml);
  });
}
