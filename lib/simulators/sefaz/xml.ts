import { DOMParser, XMLSerializer, onErrorStopParsing, type Document, type Element } from '@xmldom/xmldom';

export const NFE_NS = 'http://www.portalfiscal.inf.br/nfe';
export const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
export const SOAP12_NS = 'http://www.w3.org/2003/05/soap-envelope';

/**
 * Strict parse: any well-formedness or namespace error throws, and a DOCTYPE is refused (SEFAZ
 * accepts no DTD, and entities must not reach the checks). Returns undefined for anything bad.
 */
export function parseXml(text: string): Document | undefined {
  try {
    const doc = new DOMParser({ onError: onErrorStopParsing }).parseFromString(text, 'text/xml');
    return doc.doctype || !doc.documentElement ? undefined : doc;
  } catch {
    return undefined;
  }
}

export const serialize = (node: Element): string => new XMLSerializer().serializeToString(node);

export function childElements(parent: Element, namespace?: string, localName?: string): Element[] {
  const found: Element[] = [];
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (node.nodeType !== node.ELEMENT_NODE) continue;
    const element = node as Element;
    if (namespace !== undefined && element.namespaceURI !== namespace) continue;
    if (localName !== undefined && element.localName !== localName) continue;
    found.push(element);
  }
  return found;
}

/** The single child `localName` in the NF-e namespace, or undefined when absent or repeated. */
export function child(parent: Element | undefined, localName: string, namespace = NFE_NS): Element | undefined {
  if (!parent) return undefined;
  const found = childElements(parent, namespace, localName);
  return found.length === 1 ? found[0] : undefined;
}

/** Text of the element at `path` below `parent` (each step a single NF-e child), or undefined. */
export function text(parent: Element | undefined, ...path: string[]): string | undefined {
  let current = parent;
  for (const step of path) current = child(current, step);
  return current?.textContent ?? undefined;
}

export function* descendants(root: Element): Generator<Element> {
  yield root;
  for (const element of childElements(root)) yield* descendants(element);
}

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
export const escapeXml = (value: string): string => value.replace(/[&<>"]/g, (c) => entities[c]!);
