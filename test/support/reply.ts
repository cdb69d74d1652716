/** A simulator's answer as its tests read it: status, content type, the text, and the JSON when it is JSON. */
export interface Reply {
  status: number;
  contentType: string | null;
  text: string;
  /** The parsed body; each test states the shape it expects. */
  json: any;
}

/** Reads a fetch Response whole into a Reply (json undefined when the body is not JSON). */
export async function reply(response: Response): Promise<Reply> {
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, contentType: response.headers.get('content-type'), text, json };
}
